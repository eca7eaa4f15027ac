"""The benchmark is a command that prints figures, not a timed test: this smoke test runs every
section once at ``--smoke`` size and checks only that each figure is printed as A, B, A/B and a goal."""

from __future__ import annotations

import re
import subprocess
import sys

from data_platform.settings import REPO_ROOT

FIGURES = (
    "embedded sync vs DuckDB typed bulk load",
    "uniqueness check, 20,000 rows",
    "cold definitions load",
    "definitions of a 10-model dbt project",
    "dbt models through Dagster vs plain dbt",
    "2-day single-run backfill vs full refresh",
    "run launch+record: Postgres vs SQLite",
    "3-day range backfill: Postgres vs SQLite",
    "per-partition runs: Postgres vs SQLite",
)
ROW = re.compile(
    r"^(?P<name>.+?)\s+(?P<a>\d+\.\d{3})\s+(?P<b>\d+\.\d{3})\s+(?P<ratio>\d+\.\d\d)x\s+-?\d+\.\d{3}\s+(?P<goal>A[-/]B <= [\d.]+s?)\s+(met|MISSED)$"
)


def test_the_benchmark_command_prints_every_figure_with_its_goal():
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--smoke"], capture_output=True, text=True, timeout=1500, cwd=REPO_ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = {m["name"]: m for line in proc.stdout.splitlines() if (m := ROW.match(line))}
    assert set(rows) == set(FIGURES), proc.stdout
    for name, row in rows.items():
        a, b, ratio = float(row["a"]), float(row["b"]), float(row["ratio"])
        assert a > 0 and b > 0, name
        # A and B are printed rounded to a millisecond and the ratio comes from the unrounded
        # times: at --smoke sizes a millisecond is a few percent, so bound the ratio by the
        # rounding interval of each printed time, not by a fixed tolerance.
        low, high = (a - 0.0005) / (b + 0.0005), (a + 0.0005) / max(b - 0.0005, 1e-9)
        assert low - 0.005 <= ratio <= high + 0.005, f"{name}: A/B is A divided by B"
    assert "peak RSS" in proc.stdout and "cores" in proc.stdout.splitlines()[0], "the machine and the memory are printed"
    assert "storage Postgres:" in proc.stdout and "runs/min" in proc.stdout, "Dagster on Postgres is measured next to SQLite"
    assert "the destination's work alone" in proc.stdout, "the sync is also timed on its connectors' recorded output"
