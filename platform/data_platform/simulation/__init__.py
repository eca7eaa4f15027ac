"""Simulated operational systems of the marketplace (the local stand-in for production sources)."""

from data_platform.simulation.config import DirtSwitches, SimulationConfig
from data_platform.simulation.source_systems import SimulationMismatch, SimulationSummary, SourceSystemPaths, simulate

__all__ = ["DirtSwitches", "SimulationConfig", "SimulationMismatch", "SimulationSummary", "SourceSystemPaths", "simulate"]
