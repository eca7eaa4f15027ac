"""Asset checks (freshness, uniqueness, volume, data contracts) and alerts to the owners."""
