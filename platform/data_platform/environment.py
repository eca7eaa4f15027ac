"""The one place that reads the environment and decides local or prod.

``DATA_PLATFORM_ENV`` picks the environment:

- ``local`` (default): a DuckDB warehouse file and the embedded Airbyte runner reading the
  simulated source systems, all under ``DATA_PLATFORM_DATA_DIR`` (default ``./data``).
- ``prod``: Snowflake and an Airbyte server (self-managed when ``AIRBYTE_SERVER_URL`` is
  set, Airbyte Cloud otherwise). Secrets stay ``dg.EnvVar`` references, resolved only
  when a run starts, so loading definitions needs neither credentials nor the network.

Everything else asks this module; no other module reads ``os.environ`` for configuration.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import math
import os
from collections.abc import Mapping
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


class Environment(str, enum.Enum):
    LOCAL = "local"
    PROD = "prod"


class SettingsError(ValueError):
    """The environment variables do not describe a usable environment."""


@dataclasses.dataclass(frozen=True)
class SimulationSettings:
    seed: int = 42
    scale: float = 1.0
    history_days: int = 30
    dirt: str = "default"
    """``default`` (late and duplicated events), ``clean`` or ``everything``."""
    as_of: str | None = None
    """Simulate the sources up to this instant (ISO 8601, UTC) instead of now: a reproducible run."""


@dataclasses.dataclass(frozen=True)
class Settings:
    environment: Environment
    data_dir: Path
    simulation: SimulationSettings
    partitions_start: str = "2025-01-01"
    """First daily partition (YYYY-MM-DD)."""
    environ: Mapping[str, str] = dataclasses.field(repr=False, default_factory=dict)
    """The variables the settings were resolved from (for prod resource choices)."""

    @property
    def warehouse_path(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    @property
    def source_systems_dir(self) -> Path:
        return self.data_dir / "source_systems"

    @property
    def dagster_home(self) -> Path:
        return self.data_dir / "dagster_home"

    @property
    def warehouse_kind(self) -> str:
        return "snowflake" if self.environment is Environment.PROD else "duckdb"

    @property
    def is_local(self) -> bool:
        return self.environment is Environment.LOCAL

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.environ.get(name, default)


def resolve_settings(environ: Mapping[str, str] | None = None) -> Settings:
    environ = dict(os.environ if environ is None else environ)
    raw_env = environ.get("DATA_PLATFORM_ENV", "local").strip().lower()
    try:
        environment = Environment(raw_env)
    except ValueError:
        raise SettingsError(f"DATA_PLATFORM_ENV={raw_env!r} is not an environment; use one of {[e.value for e in Environment]}") from None
    data_dir = Path(environ.get("DATA_PLATFORM_DATA_DIR") or REPO_ROOT / "data").expanduser().resolve()
    try:
        simulation = SimulationSettings(
            seed=int(environ.get("DATA_PLATFORM_SIM_SEED", 42)),
            scale=float(environ.get("DATA_PLATFORM_SIM_SCALE", 1.0)),
            history_days=int(environ.get("DATA_PLATFORM_SIM_HISTORY_DAYS", 30)),
            dirt=environ.get("DATA_PLATFORM_SIM_DIRT", "default"),
            as_of=environ.get("DATA_PLATFORM_SIM_AS_OF") or None,
        )
    except ValueError as error:
        raise SettingsError(f"a DATA_PLATFORM_SIM_* variable is not a number: {error}") from None
    if not (math.isfinite(simulation.scale) and simulation.scale > 0):
        raise SettingsError(f"DATA_PLATFORM_SIM_SCALE={simulation.scale!r} must be a positive finite number (1.0 ≈ 40 orders a day)")
    if simulation.as_of is not None:
        try:
            moment = dt.datetime.fromisoformat(simulation.as_of.replace("Z", "+00:00"))
        except ValueError:
            raise SettingsError(f"DATA_PLATFORM_SIM_AS_OF={simulation.as_of!r} is not an ISO 8601 instant (2026-10-20T12:00:00Z)") from None
        if moment.tzinfo is None:
            raise SettingsError(f"DATA_PLATFORM_SIM_AS_OF={simulation.as_of!r} needs a time zone (Z for UTC)")
    if simulation.history_days < 1:
        raise SettingsError(f"DATA_PLATFORM_SIM_HISTORY_DAYS={simulation.history_days!r} must be at least 1")
    if simulation.dirt not in ("default", "clean", "everything"):
        raise SettingsError(f"DATA_PLATFORM_SIM_DIRT={simulation.dirt!r}: use default, clean or everything")
    partitions_start = environ.get("DATA_PLATFORM_PARTITIONS_START", "2025-01-01")
    try:
        dt.date.fromisoformat(partitions_start)
    except ValueError:
        raise SettingsError(f"DATA_PLATFORM_PARTITIONS_START={partitions_start!r} is not a YYYY-MM-DD date") from None
    return Settings(environment=environment, data_dir=data_dir, simulation=simulation, partitions_start=partitions_start, environ=environ)
