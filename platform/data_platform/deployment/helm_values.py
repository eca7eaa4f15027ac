"""Values for Dagster's official Helm chart (``dagster/dagster``), generated from the domain folders.

The chart is versioned like Dagster: install the chart version equal to the pinned ``dagster``
(``chart_version()``). One user deployment (a code server) per domain plus the platform's own
location, all from one image (``deploy/Dockerfile``); runs launched by ``K8sRunLauncher`` as a
Kubernetes Job each; Postgres outside the chart, its password from a Kubernetes secret; run
monitoring, run retries, the run queue and the warehouse pool as in ``deploy/dagster.yaml``.

A hand-kept list of deployments drifts from the domains like a hand-kept ``workspace.yaml``: the
file is written by ``data-platform workspace`` and ``workspace --check`` (CI's lint) fails when a
domain has no deployment or a deployment no domain. Nothing secret is ever in the values: secrets
are named (``envSecrets``), their values live in the cluster.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path
from typing import Any

import yaml

from data_platform.domains import domain_folders
from data_platform.settings import REPO_ROOT, Settings
from data_platform.yaml_text import load_yaml

VALUES_FILE = REPO_ROOT / "deploy" / "helm" / "values.yaml"
IMAGE_REPOSITORY = "ghcr.io/your-org/data-platform"
"""Where CI pushes ``deploy/Dockerfile``'s image; override with ``--set`` per installation."""
APP_DIR = "/opt/data-platform"
"""The repository's place in the image (``deploy/Dockerfile``)."""
GRPC_PORT = 3030
COMMON_SECRET = "data-platform-common"
"""Snowflake, Airbyte, alert sinks and the PII key, shared by every location (docs/deploying-to-kubernetes.md)."""
POSTGRES_SECRET = "dagster-postgresql-secret"
"""Holds ``postgresql-password``, created before the chart (the chart is told not to generate it)."""
PLATFORM_LOCATION = "platform"

HEADER = """\
# Generated from the domain folders by `data-platform workspace` (CI fails when it is out of step):
# do not edit by hand; change platform/data_platform/deployment/helm_values.py or override at install:
#   helm upgrade --install dagster dagster/dagster --version {version} -f deploy/helm/values.yaml \\
#     --set-string dagster-user-deployments.deployments[0].image.tag=<image tag> ...
# One code server per domain, a Kubernetes Job per run (K8sRunLauncher), Postgres outside the chart.
# No secret is written here: only the names of Kubernetes secrets (docs/deploying-to-kubernetes.md).
"""


def chart_version() -> str:
    """The Dagster Helm chart's version for this installation: the pinned ``dagster``'s."""
    return importlib.metadata.version("dagster")


def deployment_name(location: str) -> str:
    """A Kubernetes name (DNS-1123) for a code location: ``new_domain`` becomes ``new-domain``."""
    return location.replace("_", "-")


def domain_secret(location: str) -> str:
    """The secret holding one domain's own variables (its Airbyte connection ids, source credentials)."""
    return f"data-platform-{deployment_name(location)}"


EVENT_BATCHES = [{"name": "DAGSTER_EVENT_BATCH_SIZE", "value": "100"}]
"""Dagster's batched event writes: a range run's materializations (one per partition per asset) are
stored 100 at a time by its Postgres storage instead of one insert each (``python -m benchmarks``
measures both). Opt-in in Dagster, read from the environment of the process that runs the step."""


def _user_deployment(location: str, grpc_args: list[str]) -> dict[str, Any]:
    return {
        "name": deployment_name(location),
        "image": {"repository": IMAGE_REPOSITORY, "tag": importlib.metadata.version("data-platform"), "pullPolicy": "IfNotPresent"},
        "dagsterApiGrpcArgs": [*grpc_args, "--working-directory", APP_DIR],
        "port": GRPC_PORT,
        "includeConfigInLaunchedRuns": {"enabled": True},
        "env": [{"name": "DATA_PLATFORM_ENV", "value": "prod"}, *(dict(v) for v in EVENT_BATCHES)],
        "envSecrets": [{"name": COMMON_SECRET}] + ([] if location == PLATFORM_LOCATION else [{"name": domain_secret(location)}]),
        "labels": {"data-platform/code-location": deployment_name(location)},
        "resources": {"requests": {"cpu": "250m", "memory": "1Gi"}, "limits": {"memory": "2Gi"}},
        "podSecurityContext": {"runAsNonRoot": True, "runAsUser": 10001, "fsGroup": 10001},
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": False},
    }


def helm_values(settings: Settings) -> dict[str, Any]:
    """The chart's values for these settings' domains (plus the platform's own location, first)."""
    deployments = [_user_deployment(PLATFORM_LOCATION, ["--module-name", "data_platform.platform_location"])]
    for folder in domain_folders(settings):
        deployments.append(_user_deployment(folder.name, ["--python-file", f"{APP_DIR}/platform/domains/{folder.name}/definitions.py"]))
    return {
        "global": {"postgresqlSecretName": POSTGRES_SECRET},
        "dagster-user-deployments": {"enabled": True, "enableSubchart": True, "deployments": deployments},
        "dagsterWebserver": {
            "replicaCount": 2,
            "resources": {"requests": {"cpu": "250m", "memory": "1Gi"}, "limits": {"memory": "2Gi"}},
        },
        "dagsterDaemon": {
            "enabled": True,
            "resources": {"requests": {"cpu": "500m", "memory": "2Gi"}, "limits": {"memory": "4Gi"}},
            "runCoordinator": {"enabled": True, "type": "QueuedRunCoordinator"},
            "runMonitoring": {
                "enabled": True,
                # a pod that never starts (image pull, no node) fails its run after 5 min
                "startTimeoutSeconds": 300,
                "pollIntervalSeconds": 30,
                "maxRuntimeSeconds": 43200,
                # a run worker pod lost with its node is resumed once in a new pod before failing
                "maxResumeRunAttempts": 1,
                # pool slots held by a run whose worker was killed are freed 30 s after it is marked ended
                "freeSlotsAfterRunEndSeconds": 30,
            },
            "runRetries": {"enabled": True, "maxRetries": 2, "retryOnAssetOrOpFailure": False},
        },
        "concurrency": {
            "enabled": True,
            "runs": {"maxConcurrentRuns": 20, "tagConcurrencyLimits": [{"key": "dagster/backfill", "limit": 4}]},
            "pools": {"defaultLimit": 8, "granularity": "op", "opGranularityRunBuffer": 1},
        },
        "runLauncher": {
            "type": "K8sRunLauncher",
            "config": {
                "k8sRunLauncher": {
                    "loadInclusterConfig": True,
                    "envSecrets": [{"name": COMMON_SECRET}],
                    "envVars": [f"{v['name']}={v['value']}" for v in EVENT_BATCHES],
                    "failPodOnRunFailure": True,
                    "runK8sConfig": {
                        "containerConfig": {
                            "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "4Gi"}},
                            "securityContext": {"allowPrivilegeEscalation": False},
                        },
                        "podSpecConfig": {"securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "fsGroup": 10001}},
                        "jobSpecConfig": {"ttlSecondsAfterFinished": 86400, "backoffLimit": 0},
                    },
                }
            },
        },
        "postgresql": {
            # Postgres outside the chart (a managed service): the chart's own is for trials only
            "enabled": False,
            "postgresqlHost": "dagster-postgres.internal",
            "postgresqlUsername": "dagster",
            "postgresqlDatabase": "dagster",
            "postgresqlParams": {"sslmode": "require"},
            # dagster-postgres ships psycopg2; SQLAlchemy 2.1's default driver for "postgresql" is psycopg 3
            "postgresqlScheme": "postgresql+psycopg2",
            "service": {"port": 5432},
        },
        "generatePostgresqlPasswordSecret": False,
        "telemetry": {"enabled": False},
    }


def values_text(settings: Settings) -> str:
    return HEADER.format(version=chart_version()) + yaml.safe_dump(helm_values(settings), sort_keys=False, width=120)


def write_values(settings: Settings, path: Path = VALUES_FILE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(values_text(settings))
    return path


def values_drift(settings: Settings, path: Path = VALUES_FILE) -> str | None:
    """None when ``path`` holds the values these domains give; else which deployments differ."""
    actual_text = path.read_text() if path.exists() else ""
    if actual_text == values_text(settings):
        return None
    expected = {d["name"] for d in helm_values(settings)["dagster-user-deployments"]["deployments"]}
    try:
        actual = {d["name"] for d in (load_yaml(actual_text) or {})["dagster-user-deployments"]["deployments"]}
    except (KeyError, TypeError, yaml.YAMLError):
        actual = set()
    missing, extra = sorted(expected - actual), sorted(actual - expected)
    what = "; ".join(
        part
        for part in (
            f"no user deployment for {', '.join(missing)}" if missing else "",
            f"a user deployment of no domain: {', '.join(extra)}" if extra else "",
        )
        if part
    )
    return f"{path}: {what or 'not the values the domain folders give'}: run `data-platform workspace` to rewrite it"


def run_launcher_settings(values: dict[str, Any]) -> dict[str, Any]:
    """The ``K8sRunLauncher`` settings the chart writes into the instance from ``values``
    (its ``runLauncher.config.k8sRunLauncher``, in the launcher's own snake_case names), so the Job
    a run of each location gets can be built and checked without a cluster."""
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    run_config = launcher.get("runK8sConfig", {})
    return {
        "service_account_name": "dagster",
        "instance_config_map": "dagster-instance",
        "postgres_password_secret": values["global"]["postgresqlSecretName"],
        "dagster_home": "/opt/dagster/dagster_home",
        "job_namespace": "dagster",
        "env_secrets": [s["name"] for s in launcher.get("envSecrets", [])],
        "env_vars": launcher.get("envVars", []),
        "fail_pod_on_run_failure": launcher.get("failPodOnRunFailure"),
        "run_k8s_config": {
            "container_config": run_config.get("containerConfig", {}),
            "pod_spec_config": run_config.get("podSpecConfig", {}),
            "job_spec_config": run_config.get("jobSpecConfig", {}),
        },
    }


def code_server_container(deployment: dict[str, Any]) -> dict[str, Any]:
    """A user deployment's container as the chart's deployment template renders it."""
    return {
        "name": deployment["name"],
        "image": f"{deployment['image']['repository']}:{deployment['image']['tag']}",
        "imagePullPolicy": deployment["image"]["pullPolicy"],
        "args": ["dagster", "api", "grpc", "-h", "0.0.0.0", "-p", str(deployment["port"]), *deployment["dagsterApiGrpcArgs"]],
        "ports": [{"name": "grpc", "containerPort": deployment["port"]}],
        "env": deployment["env"],
        "envFrom": [{"secretRef": {"name": s["name"]}} for s in deployment["envSecrets"]],
        "resources": deployment["resources"],
        "securityContext": deployment["securityContext"],
    }
