"""What stands in for the marketplace's operational systems on a laptop: its simulation.

``advance`` is named as ``local_stand_in`` by the example domains' source systems. The
systems share one clock, so one call moves all of them forward; a file lock keeps two code
locations (commerce's and growth's runs) from writing the same files at once.
"""

from __future__ import annotations

from pathlib import Path

from filelock import FileLock

from data_platform.ingestion.source_systems import StandInReport
from data_platform.settings import SimulationSettings
from marketplace_example.simulation import DirtSwitches, SimulationConfig, simulate

DIRT = {"default": DirtSwitches, "clean": DirtSwitches.clean, "everything": DirtSwitches.everything}


def simulation_config(settings: SimulationSettings) -> SimulationConfig:
    """The simulation the settings describe (``dirt`` names a profile of DIRT)."""
    return SimulationConfig(seed=settings.seed, scale=settings.scale, history_days=settings.history_days, dirt=DIRT[settings.dirt]())


def advance(folder: Path, settings: SimulationSettings) -> StandInReport:
    """Move the simulated marketplace forward to now (or ``settings.as_of``): new orders, events
    and ad reports, and later versions of rows whose lifecycle moved on."""
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(folder / ".simulation.lock"):
        summary = simulate(simulation_config(settings), folder, settings.as_of_instant)
    return StandInReport(
        until=summary.as_of, history_start=summary.start_date, rows_total=summary.rows_total, rows_written=summary.rows_written
    )
