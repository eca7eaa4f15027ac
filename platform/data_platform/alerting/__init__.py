"""Alerting: the alert sinks (``sink.py``), the sensors that alert owners (``sensors.py``), and the check records they read."""
