"""The benchmark is a command that prints figures, not a timed test: this smoke test runs it at a
tiny size, without its dbt and partition sections (whose runs the suite proves elsewhere), and
checks only that it prints its table."""

from __future__ import annotations

import subprocess
import sys

from data_platform.settings import REPO_ROOT


def test_the_benchmark_command_prints_its_table(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "marketplace_example.benchmark", "--rows", "2000", "--partition-days", "0", "--skip-dbt"],
        capture_output=True, text=True, timeout=600, cwd=REPO_ROOT,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = proc.stdout.splitlines()
    for line in ("source connectors alone", "embedded Airbyte sync, end to end", "DuckDB typed bulk load of the same records (ceiling)"):
        assert float(next(r for r in rows if r.startswith(line)).split()[-1].replace(",", "")) > 0, line
    assert any(r.startswith("embedded sync reaches") and "peak RSS" in r for r in rows)
