"""Local platforms for tests: a data folder (simulated sources, DuckDB warehouse) with its own
Dagster instance on SQLite, so a platform built once can be copied for each test in well under
a second instead of being built again.

The instants are pinned: the sources are simulated up to ``T0`` (or ``T1``), never "now".
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from data_platform.ingestion.connections import ConnectionSpec
from data_platform.settings import REPO_ROOT, Settings, resolve_settings
from data_platform.transformation.partitions import range_tags
from embedded_airbyte.runner import EmbeddedAirbyte, SyncResult
from marketplace_example.simulation import DirtSwitches, SimulationConfig, simulate

from .example import example_connections

START = dt.date(2026, 10, 1)
T0 = dt.datetime(2026, 10, 20, 12, 0, tzinfo=dt.UTC)
T1 = dt.datetime(2026, 10, 24, 18, 0, tzinfo=dt.UTC)
LAST_DAY = T0.date()
SCALE = 0.3
BUILT_CONFIG = SimulationConfig(seed=9, scale=SCALE, start_date=START, dirt=DirtSwitches(late_event_rate=0.08))
"""The shared build: default dirt (duplicated deliveries) with more late events, so the rolling re-run has work."""
MARKETPLACE_CONFIG = SimulationConfig(seed=7, scale=0.5, start_date=START, dirt=DirtSwitches())
"""The marketplace the embedded-Airbyte tests sync (no Dagster), simulated once per session."""


class Readable:
    """Read access to a DuckDB warehouse and the simulated shop database, for assertions."""

    warehouse_path: Path
    source_systems_dir: Path

    def query(self, sql: str, params=None) -> list[tuple]:
        with duckdb.connect(str(self.warehouse_path), read_only=True) as conn:
            return conn.execute(sql, params or []).fetchall()

    def scalar(self, sql: str, params=None):
        return self.query(sql, params)[0][0]

    def source_db(self, sql: str) -> list[tuple]:
        with contextlib.closing(sqlite3.connect(self.source_systems_dir / "shop_db.sqlite")) as db:
            return db.execute(sql).fetchall()


@dataclasses.dataclass
class Marketplace(Readable):
    """Simulated source systems under ``root`` plus an embedded Airbyte syncing them into a DuckDB
    file, without Dagster."""

    root: Path
    warehouse: Path
    config: SimulationConfig = MARKETPLACE_CONFIG

    @property
    def warehouse_path(self) -> Path:
        return self.warehouse

    @property
    def source_systems_dir(self) -> Path:
        return self.root / "source_systems"

    @functools.cached_property
    def connections(self) -> dict[str, ConnectionSpec]:
        return {c.name: c for c in example_connections()}

    def simulate(self, as_of: dt.datetime) -> None:
        simulate(self.config, self.source_systems_dir, as_of)

    def sync(self, connection: str, streams=None, *, config: dict | None = None, command=None, batch_size: int = 5_000) -> SyncResult:
        """``command``: another connector command for the connection (a wrapper that kills it, say)."""
        spec = self.connections[connection]
        if command is not None:
            spec = dataclasses.replace(spec, embedded_source=dataclasses.replace(spec.embedded_source, command=tuple(command)))
        resolved = spec.embedded_source.resolved_config({"source_systems": str(self.source_systems_dir)})
        runner = EmbeddedAirbyte(self.warehouse, batch_size=batch_size)
        return runner.sync(spec.embedded, {**resolved, **(config or {})}, streams)


@dataclasses.dataclass
class Platform(Readable):
    """A local platform in ``data_dir``; its Dagster instance lives in ``data_dir/dagster_home``."""

    data_dir: Path
    config: SimulationConfig = BUILT_CONFIG

    @functools.cached_property
    def settings(self) -> Settings:
        return resolve_settings({"DATA_PLATFORM_DATA_DIR": str(self.data_dir), "DATA_PLATFORM_SIM_SCALE": str(self.config.scale)})

    @functools.cached_property
    def defs(self) -> dg.Definitions:
        from data_platform.definitions import build_definitions

        return build_definitions(self.settings)

    @property
    def warehouse_path(self) -> Path:
        return self.settings.warehouse.duckdb_path

    @property
    def source_systems_dir(self) -> Path:
        return self.settings.source_systems_dir

    @property
    def home(self) -> Path:
        return self.data_dir / "dagster_home"

    def instance(self) -> dg.DagsterInstance:
        """The platform's instance (SQLite storage: copyable with the folder). Close it after use."""
        from dagster._core.instance.ref import InstanceRef  # only way to open an instance on a folder without a dagster.yaml

        self.home.mkdir(parents=True, exist_ok=True)
        return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(self.home)))

    def copy(self, destination: Path) -> Platform:
        """A pristine copy (warehouse, sources, run history), independent of this one."""
        shutil.copytree(self.data_dir, destination, dirs_exist_ok=True)
        return Platform(destination, self.config)

    def simulate(self, as_of: dt.datetime) -> None:
        simulate(self.config, self.settings.source_systems_dir, as_of)

    def run_main_job(self, instance, selection: dg.AssetSelection | None = None, last_day: dt.date = LAST_DAY) -> dg.ExecuteInProcessResult:
        """The main job over ``selection`` (default: everything but the simulated source systems,
        which tests simulate at pinned instants) for the days START..last_day, not raising on failure."""
        from data_platform.definitions import MAIN_JOB

        selection = selection or (dg.AssetSelection.all() - dg.AssetSelection.groups("source_systems", "reconciliation"))
        return self.defs.resolve_job_def(MAIN_JOB).execute_in_process(
            instance=instance,
            raise_on_error=False,
            asset_selection=list(selection.resolve(self.defs.resolve_asset_graph())),
            tags=range_tags(START.isoformat(), last_day.isoformat()),
        )

    @functools.cached_property
    def domain_defs(self) -> dict[str, dg.Definitions]:
        """Each domain's code location, as ``workspace.yaml`` serves it."""
        from data_platform.definitions import build_definitions
        from data_platform.domains import load_domains

        return {d.name: build_definitions(self.settings, [d], location=d.name) for d in load_domains(self.settings)}

    def run_end_to_end(self, instance, last_day: dt.date = LAST_DAY):
        """What ``data-platform run`` does (each domain's end-to-end job, in dependency order),
        without the simulated source systems, for the days START..last_day."""
        from data_platform.automation.end_to_end import run_end_to_end

        return run_end_to_end(
            self.domain_defs,
            instance,
            leave_out=lambda key: key.path[0] == "source_system",
            tags=range_tags(START.isoformat(), last_day.isoformat()),
        )

    def dagster(self, *arguments: str) -> subprocess.CompletedProcess:
        """Dagster's own CLI on this platform, as an operator types it (``dagster job execute …``),
        with the simulation pinned to this platform's seed, scale and instant."""
        if not (self.home / "dagster.yaml").exists():
            self.home.mkdir(parents=True, exist_ok=True)
            (self.home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("DATA_PLATFORM_SIM_")}
        env.update(
            DATA_PLATFORM_DATA_DIR=str(self.data_dir),
            DAGSTER_HOME=str(self.home),
            DATA_PLATFORM_SIM_AS_OF=T0.isoformat(),
            DATA_PLATFORM_SIM_SCALE=str(self.config.scale),
            DATA_PLATFORM_SIM_SEED=str(self.config.seed),
            DATA_PLATFORM_PARTITIONS_START=START.isoformat(),
        )
        dagster = str(Path(sys.executable).with_name("dagster"))
        return subprocess.run([dagster, *arguments], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=280)

    def run_job(self, instance, job: str, **kwargs) -> dg.ExecuteInProcessResult:
        return self.defs.resolve_job_def(job).execute_in_process(instance=instance, raise_on_error=False, **kwargs)


@contextlib.contextmanager
def using(platform: Platform) -> Iterator[Platform]:
    """The process environment pointed at ``platform`` (dbt's profile reads the data folder from it)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATA_PLATFORM_DATA_DIR", str(platform.data_dir))
        patch.delenv("DAGSTER_HOME", raising=False)
        yield platform


def build_platform(folder: Path) -> None:
    """Simulate to T0 and run the main job over START..T0: every stream synced, every model built."""
    platform = Platform(folder)
    with using(platform):
        platform.simulate(T0)
        with platform.instance() as instance:
            result = platform.run_main_job(instance)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
