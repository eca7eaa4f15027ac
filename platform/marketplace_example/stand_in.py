"""What stands in for the marketplace's operational systems on a laptop: its simulation.

``advance`` is named as ``local_stand_in`` by the example domains' source systems. The
systems share one clock, so one call moves all of them forward; a file lock keeps two code
locations (commerce's and growth's runs) from writing the same files at once.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from filelock import FileLock

from data_platform.ingestion.source_systems import StandInReport
from marketplace_example.settings import SimulationSettings, simulation_settings
from marketplace_example.simulation import DirtSwitches, SimulationConfig, simulate

DIRT = {"default": DirtSwitches, "clean": DirtSwitches.clean, "everything": DirtSwitches.everything}


def simulation_config(settings: SimulationSettings) -> SimulationConfig:
    """The simulation the settings describe (``dirt`` names a profile of DIRT)."""
    return SimulationConfig(seed=settings.seed, scale=settings.scale, history_days=settings.history_days, dirt=DIRT[settings.dirt]())


def advance(folder: Path, as_of: dt.datetime | None = None) -> StandInReport:
    """Move the simulated marketplace forward to ``as_of`` (None: now): new orders, events and ad
    reports, and later versions of rows whose lifecycle moved on. Its knobs: ``simulation_settings``."""
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(folder / ".simulation.lock"):
        summary = simulate(simulation_config(simulation_settings()), folder, as_of)
    return StandInReport(
        until=summary.as_of, history_start=summary.start_date, rows_total=summary.rows_total, rows_written=summary.rows_written
    )
