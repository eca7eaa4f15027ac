"""Governance: data contracts with the source owners (ODCS v3)."""
