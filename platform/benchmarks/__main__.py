"""``python -m benchmarks``: the platform against the plain tool it wraps, each figure printed as
A, B and A/B next to its goal, never asserted (``--smoke``: the smallest size, for the suite).

Figures (A is the platform, B the plain tool doing the same work on the same data), one module each:

1. ``sync``: the embedded sync of every connection of the domains (connector + protocol + typed
   load + commits) against DuckDB's typed bulk load of the very same records: goal A/B <= 2 (the
   sync at half the ceiling or better); and against the faster of dlt and PyAirbyte loading the
   same records, each in an environment of its own (``peers``): A/B <= 0.2;
2. ``uniqueness``: the primary-key uniqueness check's query against ``count(*) - count(distinct
   key)`` on a table of 10M rows with some duplicates: A/B <= 1.2;
3. ``cold_load``: the cold definitions load, whole process, against ``import dagster, dagster_dbt``,
   both without writing bytecode: A - B <= 0.5 s;
4. ``definitions``: a synthetic 2,500-model dbt project through the platform's path against plain
   ``@dbt_assets`` over the same manifest: A/B <= 1.15;
5. ``dbt_build``: every dbt model materialized through Dagster against plain ``dbt build
   --full-refresh`` of the same projects on the same data: A/B <= 1.15;
6. ``partitions``: a 365-partition single-run backfill of the daily models against a full refresh
   of the same models: A/B <= 1.3 (and, for scale, one run per partition, sampled and projected);
7. ``storage``: Dagster on Postgres next to SQLite (run launch, backfill throughput).

It runs against the domains of the workspace (``--domain``, repeatable; default all, the example's
two when it ships), their source systems filled by their local stand-ins to ``--rows`` rows.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import logging
import sys
import tempfile
from pathlib import Path

from benchmarks.cold_load import cold_load_figure
from benchmarks.dbt_build import dbt_figure
from benchmarks.definitions import definitions_figure
from benchmarks.domains import Bench
from benchmarks.partitions import partitions_figure
from benchmarks.report import DEFAULT, QUICK, SMOKE, Figure, Sizes, machine, print_figures
from benchmarks.storage import storage_figures
from benchmarks.sync import sync_figures
from benchmarks.uniqueness import uniqueness_figure
from data_platform.reporting import peak_rss_mib


def main(sizes: Sizes = DEFAULT, dbt: bool = True, domains: tuple[str, ...] | None = None) -> int:
    # the syncs' warnings (a simulated row stamped within the read's safety lag, each sync) are the
    # simulation's, not figures: errors still print
    logging.getLogger("embedded_airbyte").setLevel(logging.ERROR)
    started = dt.datetime.now(dt.UTC)
    print(f"benchmark of {started:%Y-%m-%d %H:%M} UTC on {machine()}")
    print(f"sizes: {sizes.rows:,} source rows, uniqueness on {sizes.uniqueness_rows:,} rows, {sizes.models:,} synthetic models, "
          f"{sizes.partition_days} partition days; medians of {max(sizes.min_repeats, sizes.repeats)} alternated runs where repeated; "
          f"domains: {', '.join(domains) if domains else 'all'}", flush=True)  # fmt: skip
    figures: list[Figure] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="data-platform-bench-") as tmp:
        bench = Bench(Path(tmp), domains)
        figures.extend(sync_figures(bench, sizes, notes))
        figures.append(uniqueness_figure(bench.root, sizes.uniqueness_rows, sizes.repeats, sizes.min_repeats))
        if dbt:
            figures.append(cold_load_figure(bench, sizes.repeats, notes, sizes.min_repeats))
            figures.append(definitions_figure(bench.root, sizes.models, sizes.repeats, sizes.min_repeats))
            figures.append(dbt_figure(bench, sizes.history_days, min(3, sizes.repeats)))
    if dbt and sizes.partition_days:
        figures.append(partitions_figure(domains, sizes.partition_days, sizes.partition_scale, sizes.partition_samples, notes))
    if sizes.storage_days:
        figures.extend(storage_figures(sizes.storage_runs, sizes.storage_days, notes))
    notes.append(f"peak RSS of the benchmark's own process (stand-ins, syncs, loads): {peak_rss_mib():,.0f} MiB")
    notes.append(f"finished in {(dt.datetime.now(dt.UTC) - started).total_seconds() / 60:.1f} min")
    print_figures(figures, notes)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The benchmark's command line (the docs' command lines are parsed with it by a test)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, no peers (a few minutes)")
    parser.add_argument(
        "--smoke", action="store_true", help="every section once at the smallest size: the output's shape, no figure worth reading"
    )
    parser.add_argument("--domain", action="append", help="a domain to run against (repeatable; default: every domain)")
    parser.add_argument("--rows", type=int, help="approximate number of source rows (default 1M)")
    parser.add_argument("--uniqueness-rows", type=int, help="rows of the uniqueness check's table (default 10M)")
    parser.add_argument("--models", type=int, help="models of the synthetic dbt project (default 2,500)")
    parser.add_argument("--partition-days", type=int, help="days of the partition backfill (default 365; 0 skips it)")
    parser.add_argument("--storage-days", type=int, help="days of the Postgres/SQLite backfill (default 365; 0 skips storage)")
    parser.add_argument("--no-peers", action="store_true", help="skip dlt and PyAirbyte (installed on first use otherwise)")
    parser.add_argument("--skip-dbt", action="store_true", help="only the sync and the uniqueness check")
    return parser


def cli(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    sizes = SMOKE if args.smoke else QUICK if args.quick else DEFAULT
    given = {
        "rows": args.rows,
        "uniqueness_rows": args.uniqueness_rows,
        "models": args.models,
        "partition_days": args.partition_days,
        "storage_days": args.storage_days,
        "peers": False if args.no_peers else None,
    }
    sizes = dataclasses.replace(sizes, **{k: v for k, v in given.items() if v is not None})
    return main(sizes, dbt=not args.skip_dbt, domains=tuple(args.domain) if args.domain else None)


if __name__ == "__main__":
    sys.exit(cli())
