"""Simulated operational systems of the marketplace (the local stand-in for production sources)."""

from marketplace_example.simulation.config import DirtSwitches, SimulationConfig
from marketplace_example.simulation.source_systems import SimulationMismatch, SimulationSummary, SourceSystemPaths, simulate

__all__ = ["DirtSwitches", "SimulationConfig", "SimulationMismatch", "SimulationSummary", "SourceSystemPaths", "simulate"]
