"""Figure: a single-run backfill of every daily partition of the domains' daily models against
a full refresh of the same models on the same data; the notes add one run per partition, sampled
and projected."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.domains import Bench
from benchmarks.report import Figure, progress


def partitions_figure(names: tuple[str, ...] | None, days: int, scale: float, samples: int, notes: list[str]) -> Figure:
    """A ``days``-partition single-run backfill against a full refresh and per-partition runs."""
    with tempfile.TemporaryDirectory(prefix="data-platform-partitions-") as tmp:
        bench = Bench(Path(tmp), names)
        now = dt.datetime.now(dt.UTC)
        first = (now.date() - dt.timedelta(days=days - 1)).isoformat()
        last = now.date().isoformat()
        t = time.perf_counter()
        rows = bench.fill(scale=scale, history_days=days, seed=2)
        progress(f"source systems filled for {days} days ({rows:,} rows) in {time.perf_counter() - t:.1f}s")
        env = bench.env(DATA_PLATFORM_PARTITIONS_START=first, DATA_PLATFORM_SIM_SCALE=str(scale), DATA_PLATFORM_SIM_HISTORY_DAYS=str(days))
        sample = sorted({(now.date() - dt.timedelta(days=d)).isoformat() for d in (days // 2, days // 3, 7 % days, 2 % days, 1)[:samples]})
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks.probes", "partitions", first, last, ",".join(sample)],
            env=env,
            capture_output=True,
            text=True,
        )
        if proc.returncode:
            raise RuntimeError(f"the partition runs failed:\n{proc.stderr[-4000:]}")
        timings = json.loads(proc.stdout.strip().splitlines()[-1])
    if timings["per_partition"] is not None:
        per_all = timings["per_partition"] * days
        notes.append(
            f"{days} runs of one partition each (mean of {len(sample)} sampled days: {timings['per_partition']:.2f}s), projected: "
            f"{per_all:.0f}s; the single-run backfill is {per_all / timings['range']:.0f}x faster"
        )
    progress(f"{days}-day backfill {timings['range']:.1f}s, full refresh {timings['full_refresh']:.1f}s")
    return Figure(
        f"{days}-day single-run backfill vs full refresh",
        f"the daily models of both domains, {days} partitions in one run",
        timings["range"],
        "the same models, full refresh (dbt --full-refresh) of the same data",
        timings["full_refresh"],
        max_ratio=1.3,
    )
