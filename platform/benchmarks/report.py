"""The benchmark's figures and how they are printed: A (the platform) against B (the plain tool
doing the same work on the same data), A/B and the goal, never asserted."""

from __future__ import annotations

import dataclasses
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class Sizes:
    rows: int = 1_000_000
    uniqueness_rows: int = 10_000_000
    models: int = 2_500
    partition_days: int = 365
    partition_scale: float = 0.3
    partition_samples: int = 5
    """days run one partition per run, for the projection"""
    repeats: int = 5
    min_repeats: int = 3
    """timed comparisons are medians of at least this many alternated runs"""
    storage_runs: int = 50
    storage_days: int = 365
    """Dagster on Postgres next to SQLite: no-op runs, and the days of a range backfill (0 skips it)"""
    history_days: int = 30
    """days of source history the sync and dbt figures simulate"""
    peers: bool = True
    """dlt and PyAirbyte on the same records, each installed into an environment of its own"""


DEFAULT = Sizes()
QUICK = Sizes(rows=20_000, uniqueness_rows=200_000, models=60, partition_days=10, partition_scale=0.05, partition_samples=2, repeats=1,
              storage_runs=10, storage_days=30, peers=False)  # fmt: skip

SMOKE = Sizes(
    rows=5_000,
    uniqueness_rows=20_000,
    models=10,
    partition_days=2,
    partition_scale=0.05,
    partition_samples=0,
    repeats=1,
    min_repeats=1,
    storage_runs=2,
    storage_days=3,
    peers=False,
)
"""Every section once at the smallest size (no per-partition projection): proves the command prints each figure, measures nothing."""


@dataclasses.dataclass(frozen=True)
class Figure:
    """One comparison: A (the platform) against B (the plain tool), and the goal it is held to."""

    name: str
    a_what: str
    a: float
    b_what: str
    b: float
    max_ratio: float | None = None
    max_extra: float | None = None

    @property
    def ratio(self) -> float:
        return self.a / self.b

    @property
    def goal(self) -> str:
        return f"A/B <= {self.max_ratio:.2f}" if self.max_ratio is not None else f"A-B <= {self.max_extra:.1f}s"

    @property
    def met(self) -> bool:
        if self.max_ratio is not None:
            return self.ratio <= self.max_ratio
        return self.a - self.b <= self.max_extra


def print_figures(figures: list[Figure], notes: list[str]) -> None:
    print()
    print(f"{'figure':<44} {'A (s)':>9} {'B (s)':>9} {'A/B':>7} {'A-B (s)':>8}  {'goal':<15} result")
    print("-" * 104)
    for f in figures:
        print(f"{f.name:<44} {f.a:>9.3f} {f.b:>9.3f} {f.ratio:>6.2f}x {f.a - f.b:>8.3f}  {f.goal:<15} {'met' if f.met else 'MISSED'}")
    print("-" * 104)
    for f in figures:
        print(f"{f.name}:\n    A = {f.a_what}\n    B = {f.b_what}")
    for note in notes:
        print(note)


def machine() -> str:
    cpu = (
        next(
            (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
            platform.processor(),
        )
        if Path("/proc/cpuinfo").exists()
        else platform.processor()
    )
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def alternated(a: Callable[[], float], b: Callable[[], float], repeats: int) -> tuple[float, float]:
    """Medians of A and B timed in alternation (A, B, A, B, ...), so drift on the machine hits both."""
    times_a, times_b = [], []
    for _ in range(repeats):
        times_a.append(a())
        times_b.append(b())
    return statistics.median(times_a), statistics.median(times_b)


def progress(line: str) -> None:
    print(f"  {line}", flush=True)


def probe_seconds(probe: str, *args: str, env: dict[str, str]) -> float:
    """Run a probe of ``benchmarks.probes`` in a fresh interpreter and return the seconds it printed last."""
    argv = [sys.executable, "-W", "ignore", "-m", "benchmarks.probes", probe, *args]
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"probe {probe} failed:\n{done.stderr[-4000:]}")
    return float(done.stdout.strip().splitlines()[-1])


def probe_wall_seconds(probe: str, *args: str, env: dict[str, str]) -> float:
    """The wall-clock seconds of a whole probe process, interpreter start to exit."""
    started = time.perf_counter()
    probe_seconds(probe, *args, env=env)
    return time.perf_counter() - started


def local_env(root: Path, **extra: str) -> dict[str, str]:
    """The environment of a local platform whose data (warehouse, source systems, Dagster home) is under ``root``."""
    return {
        **os.environ,
        "DATA_PLATFORM_ENV": "local",
        "DATA_PLATFORM_DATA_DIR": str(root),
        "DAGSTER_HOME": str(root / "dagster_home"),
        **extra,
    }
