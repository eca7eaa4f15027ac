"""The simulator's knobs, read from the environment by the example itself (the platform's settings
know nothing of a simulation): ``DATA_PLATFORM_SIM_SEED``, ``…_SCALE``, ``…_HISTORY_DAYS``, ``…_DIRT``.
The instant it simulates up to is the platform's (``DATA_PLATFORM_SIM_AS_OF``, handed to the
stand-in). A variable that does not parse is a ``SettingsError`` naming it."""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping

from data_platform.settings import SettingsError

MAX_SIM_SCALE = 1000.0
"""About 33 million source rows over 30 days: the main job's measured 10M rows at scale 300 took
12 minutes and 6 GiB; more would not finish on the machines this runs on."""
MAX_SIM_HISTORY_DAYS = 3650
DIRT_PROFILES = ("default", "clean", "everything")


@dataclasses.dataclass(frozen=True)
class SimulationSettings:
    seed: int = 42
    scale: float = 1.0
    history_days: int = 30
    dirt: str = "default"
    """``default`` (late and duplicated events), ``clean`` or ``everything``."""


def _number(environ: Mapping[str, str], name: str, default, parse, what: str):
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = parse(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not {what}") from None
    if parse is float and not (math.isfinite(value) and value > 0):
        raise SettingsError(f"{name}={raw!r} is not {what}")
    return value


def simulation_settings(environ: Mapping[str, str] | None = None) -> SimulationSettings:
    environ = os.environ if environ is None else environ
    simulation = SimulationSettings(
        seed=_number(environ, "DATA_PLATFORM_SIM_SEED", 42, int, "a whole number"),
        scale=_number(environ, "DATA_PLATFORM_SIM_SCALE", 1.0, float, "a positive finite number (1.0 ≈ 40 orders a day)"),
        history_days=_number(environ, "DATA_PLATFORM_SIM_HISTORY_DAYS", 30, int, "a whole number of days"),
        dirt=environ.get("DATA_PLATFORM_SIM_DIRT") or "default",
    )
    if not 1 <= simulation.history_days <= MAX_SIM_HISTORY_DAYS:
        raise SettingsError(f"DATA_PLATFORM_SIM_HISTORY_DAYS={simulation.history_days!r} must be from 1 to {MAX_SIM_HISTORY_DAYS} days")
    if simulation.scale > MAX_SIM_SCALE:
        raise SettingsError(
            f"DATA_PLATFORM_SIM_SCALE={simulation.scale!r} is more than this machine can simulate: at most {MAX_SIM_SCALE:g} "
            "(300 is about 10 million source rows over 30 days)"
        )
    if simulation.dirt not in DIRT_PROFILES:
        raise SettingsError(f"DATA_PLATFORM_SIM_DIRT={simulation.dirt!r}: use default, clean or everything")
    return simulation
