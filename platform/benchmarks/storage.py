"""Dagster's storage in production (Postgres, over TCP) next to the local default (SQLite files):
what a run costs to launch and record, and how fast a backfill goes, on each.

The same workload on each instance, in this process: no-op runs one after the other (the fixed
cost of a run: its run record, its start, success and step events), a single-run backfill of a
range of daily partitions (one run, an event per partition) and a backfill of one run per
partition. The asset does no work, so what is measured is Dagster's bookkeeping on each storage.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg

from benchmarks.report import Figure
from data_platform.deployment.throwaway_postgres import postgres_server

DAYS = dg.DailyPartitionsDefinition(start_date="2023-01-01")  # room for two ranges of a year


@dg.asset
def bench_noop() -> None:
    """Does nothing: the run around it is what is measured."""


with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.BetaWarning)

    @dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run())
    def bench_daily(context) -> None:
        """Does nothing for each day of its range."""


def _sqlite_instance(root: Path) -> contextlib.AbstractContextManager[dg.DagsterInstance]:
    home = root / "sqlite_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry: {enabled: false}\n")
    return dg.DagsterInstance.from_config(str(home))


@contextlib.contextmanager
def _postgres_instance(root: Path) -> Iterator[dg.DagsterInstance]:
    home = root / "postgres_home"
    home.mkdir()
    with postgres_server() as server:
        os.environ.update(server.create_database("bench"))
        (home / "dagster.yaml").write_text(
            "storage:\n  postgres:\n    postgres_db:\n"
            + "".join(
                f"      {k}: {{env: DAGSTER_PG_{v}}}\n"
                for k, v in [("hostname", "HOST"), ("port", "PORT"), ("db_name", "DB"), ("username", "USER"), ("password", "PASSWORD")]
            )
            + "      scheme: postgresql+psycopg2\ntelemetry: {enabled: false}\n"
        )
        with dg.DagsterInstance.from_config(str(home)) as instance:
            yield instance


EVENT_BATCH_SIZE = 100
"""What production sets DAGSTER_EVENT_BATCH_SIZE to (deploy/helm/values.yaml, deploy/dagster.yaml's docs)."""


@contextlib.contextmanager
def _environment_variable(name: str, value: str) -> Iterator[None]:
    saved = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = saved


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def measure(instance: dg.DagsterInstance, runs: int, days: int) -> dict[str, float]:
    """Seconds per no-op run, partitions per minute in one range run, runs per minute one partition each."""
    keys = DAYS.get_partition_keys()[:days]
    dg.materialize([bench_noop], instance=instance)  # warm: tables, caches
    per_run = _timed(lambda: [dg.materialize([bench_noop], instance=instance) for _ in range(runs)]) / runs
    range_tags = {"dagster/asset_partition_range_start": keys[0], "dagster/asset_partition_range_end": keys[-1]}
    range_seconds = _timed(lambda: dg.materialize([bench_daily], instance=instance, tags=range_tags))
    # the same range again on fresh partitions, with Dagster's batched event writes (DAGSTER_EVENT_BATCH_SIZE:
    # a range run's materializations stored a batch at a time by storages that implement it, Postgres's)
    batched_keys = DAYS.get_partition_keys()[days : 2 * days]
    batched_tags = {"dagster/asset_partition_range_start": batched_keys[0], "dagster/asset_partition_range_end": batched_keys[-1]}
    with _environment_variable("DAGSTER_EVENT_BATCH_SIZE", str(EVENT_BATCH_SIZE)):
        batched_seconds = _timed(lambda: dg.materialize([bench_daily], instance=instance, tags=batched_tags))
    singles = keys[:runs]
    singles_seconds = _timed(lambda: [dg.materialize([bench_daily], instance=instance, partition_key=k) for k in singles])
    materialized = instance.fetch_materializations(dg.AssetKey("bench_daily"), limit=days * 3).records
    assert len(materialized) == 2 * days + len(singles), f"{len(materialized)} materializations recorded"
    return {
        "seconds_per_run": per_run,
        "partitions_per_minute": days / range_seconds * 60,
        "batched_partitions_per_minute": days / batched_seconds * 60,
        "runs_per_minute": len(singles) / singles_seconds * 60,
    }


GUARD = 3.0
"""A regression guard, not a target: Postgres is a network round trip per event where SQLite
writes a local file, so it is expected slower per run; more than 3x says something changed."""


def storage_figures(runs: int, days: int, notes: list[str]) -> list:
    """Postgres (A) next to SQLite (B): seconds per run, and a backfill's time per partition and per run."""

    with tempfile.TemporaryDirectory(prefix="data-platform-storage-") as tmp:
        root = Path(tmp)
        with _sqlite_instance(root) as instance:
            sqlite = measure(instance, runs, days)
        try:
            with _postgres_instance(root) as instance:
                postgres = measure(instance, runs, days)
        except RuntimeError as not_installed:  # a laptop without PostgreSQL: the SQLite side alone
            notes.append(f"storage: {not_installed}; SQLite only: {sqlite}")
            return []
    for name, figures in (("SQLite", sqlite), ("Postgres", postgres)):
        notes.append(
            f"storage {name}: {figures['seconds_per_run'] * 1000:.0f} ms per no-op run, "
            f"{figures['partitions_per_minute']:,.0f} partitions/min in a {days}-day single-run backfill "
            f"({figures['batched_partitions_per_minute']:,.0f} with DAGSTER_EVENT_BATCH_SIZE={EVENT_BATCH_SIZE}), "
            f"{figures['runs_per_minute']:,.0f} runs/min one partition each"
        )
    return [
        Figure(
            "run launch+record: Postgres vs SQLite",
            "Postgres, s per no-op run",
            postgres["seconds_per_run"],
            "SQLite, s per no-op run",
            sqlite["seconds_per_run"],
            max_ratio=GUARD,
        ),
        Figure(
            f"{days}-day range backfill: Postgres vs SQLite",
            f"Postgres as deployed (DAGSTER_EVENT_BATCH_SIZE={EVENT_BATCH_SIZE}), s per 1,000 partitions",
            60_000 / postgres["batched_partitions_per_minute"],
            "SQLite as local runs use it (no batching), s per 1,000 partitions",
            60_000 / sqlite["partitions_per_minute"],
            max_ratio=GUARD,
        ),
        Figure(
            "per-partition runs: Postgres vs SQLite",
            "Postgres, s per 100 runs",
            6_000 / postgres["runs_per_minute"],
            "SQLite, s per 100 runs",
            6_000 / sqlite["runs_per_minute"],
            max_ratio=GUARD,
        ),
    ]
