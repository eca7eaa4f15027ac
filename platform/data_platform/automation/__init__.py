"""Partitions, schedules, sensors and declarative automation."""
