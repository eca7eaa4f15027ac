"""Production deployment: the Helm chart's values, the run worker's Kubernetes Job, offline validation."""
