"""``python -m marketplace_example.benchmark``: the platform's throughput on the example's data, printed, never asserted.

1. simulate the marketplace at a scale giving about ``rows`` source rows;
2. time each connector's ``read`` alone (its output captured to a file);
3. time the embedded sync of every connection into a fresh DuckDB file (connector +
   protocol parsing + batching + typed load + checkpoints), in rows/s;
4. time DuckDB's own bulk load of the very same captured records, typed as the contracts
   declare them (``read_json`` straight into tables, no protocol, no Python in the loop): the ceiling;
5. the cold definitions load (a fresh interpreter importing the code location and building
   the Definitions, manifest cached);
6. the full materialization of the dbt models through Dagster against plain ``dbt build`` of
   the same models on the same data;
7. a 365-partition single-run backfill of the daily models against a full refresh of the same
   data and against one run per partition (timed on a sample of days, projected).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import orjson

from data_platform.domains import load_domains
from data_platform.ingestion.destination import quote
from data_platform.ingestion.runner import EmbeddedAirbyte
from data_platform.settings import REPO_ROOT, resolve_settings
from data_platform.transformation.project import DBT_EXECUTABLE
from marketplace_example.simulation import DirtSwitches, SimulationConfig, simulate

ROWS_PER_SCALE_UNIT = 32_000  # source rows for scale 1.0 over 30 days of history


def partitions_benchmark(days: int = 365, scale: float = 0.3) -> None:
    """A ``days``-partition single-run backfill against a full refresh and per-partition runs."""
    with tempfile.TemporaryDirectory(prefix="data-platform-partitions-") as tmp:
        root = Path(tmp)
        now = dt.datetime.now(dt.UTC)
        first = (now.date() - dt.timedelta(days=days - 1)).isoformat()
        last = now.date().isoformat()
        env = {
            **_env(root),
            "DATA_PLATFORM_PARTITIONS_START": first,
            "DATA_PLATFORM_SIM_SCALE": str(scale),
            "DATA_PLATFORM_SIM_HISTORY_DAYS": str(days),
        }
        t = time.perf_counter()
        summary = simulate(SimulationConfig(seed=2, scale=scale, history_days=days, dirt=DirtSwitches()), root / "source_systems", now)
        print(
            f"\nsimulated {days} days ({sum(summary.rows_total.values()):,} source rows) in {time.perf_counter() - t:.1f}s; building and timing..."
        )
        sample = [(now.date() - dt.timedelta(days=d)).isoformat() for d in (days // 2, days // 3, 7, 2, 1)]
        out = subprocess.run(
            [sys.executable, "-m", "marketplace_example.benchmark_runs", "partitions", first, last, ",".join(sample)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        timings = json.loads(out.strip().splitlines()[-1])
    per_all = timings["per_partition"] * days
    print(f"{f'daily models, {days} partitions in one run (single-run backfill)':<66} {timings['range']:>8.2f}s")
    print(
        f"{'daily models, full refresh of the same data':<66} {timings['full_refresh']:>8.2f}s   ratio {timings['range'] / timings['full_refresh']:.2f}x"
    )
    print(f"{'daily models, one partition per run (mean of a sample of 5 days)':<66} {timings['per_partition']:>8.2f}s")
    print(f"{f'  -> {days} per-partition runs, projected':<66} {per_all:>8.1f}s   single run is {per_all / timings['range']:.0f}x faster")


def main(rows: int = 1_000_000, partition_days: int = 365, dbt: bool = True) -> int:
    with tempfile.TemporaryDirectory(prefix="data-platform-bench-") as tmp:
        root = Path(tmp)
        scale = max(0.05, rows / ROWS_PER_SCALE_UNIT)
        started = time.perf_counter()
        summary = simulate(SimulationConfig(seed=1, scale=scale, history_days=30, dirt=DirtSwitches()), root / "sources")
        total = sum(summary.rows_total.values())
        print(f"simulated {total:,} source rows (scale {scale:.1f}) in {time.perf_counter() - started:.1f}s")
        variables = {"source_systems": str(root / "sources")}
        connections = [c for d in load_domains(resolve_settings({})) for c in d.connections]

        read_seconds, captured = 0.0, []
        for connection in connections:
            config = connection.embedded_source.resolved_config(variables)
            runner = EmbeddedAirbyte(root / "scratch.duckdb")
            discovered = runner.discover(connection.embedded_source, config)
            catalog = {
                "streams": [
                    {"stream": discovered[s.name], "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}
                    for s in connection.streams
                ]
            }
            (root / "config.json").write_bytes(orjson.dumps(config))
            (root / "catalog.json").write_bytes(orjson.dumps(catalog))
            out = root / f"{connection.name}.messages.jsonl"
            t = time.perf_counter()
            with out.open("wb") as f:
                subprocess.run(
                    [
                        *connection.embedded_source.command,
                        "read",
                        "--config",
                        str(root / "config.json"),
                        "--catalog",
                        str(root / "catalog.json"),
                    ],
                    stdout=f,
                    check=True,
                )
            read_seconds += time.perf_counter() - t
            captured.append(out)

        t = time.perf_counter()
        synced = 0
        for connection in connections:
            result = EmbeddedAirbyte(root / "warehouse.duckdb").sync(connection, connection.embedded_source.resolved_config(variables))
            synced += result.records_synced
        sync_seconds = time.perf_counter() - t

        loaded, ceiling_seconds = _typed_bulk_load(root, connections, captured)

        if dbt:
            cold_load = _cold_definitions_load(root)
            dagster_seconds, dbt_seconds = _dagster_vs_plain_dbt(root)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print()
        print(f"{'measurement':<52} {'rows':>11} {'seconds':>8} {'rows/s':>10}")
        print("-" * 84)
        print(f"{'source connectors alone (read to a file)':<52} {total:>11,} {read_seconds:>8.1f} {total / read_seconds:>10,.0f}")
        print(f"{'embedded Airbyte sync, end to end, into DuckDB':<52} {synced:>11,} {sync_seconds:>8.1f} {synced / sync_seconds:>10,.0f}")
        print(
            f"{'DuckDB typed bulk load of the same records (ceiling)':<52} {loaded:>11,} {ceiling_seconds:>8.1f} {loaded / ceiling_seconds:>10,.0f}"
        )
        print("-" * 84)
        print(
            f"embedded sync reaches {ceiling_seconds / sync_seconds:.0%} of DuckDB's bulk-load speed; peak RSS {peak_mb:,.0f} MiB; {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"
        )
        if dbt:
            print()
            print(f"{'cold definitions load (fresh interpreter, import + Definitions)':<66} {cold_load:>8.2f}s")
            print(f"{'dbt models materialized through Dagster (one run, dbt build)':<66} {dagster_seconds:>8.2f}s")
            print(f"{'plain dbt build of the same models on the same data':<66} {dbt_seconds:>8.2f}s")
            print(f"{'Dagster overhead over plain dbt':<66} {dagster_seconds / dbt_seconds:>8.2f}x")
    if partition_days:
        partitions_benchmark(partition_days)
    return 0


def _typed_bulk_load(root: Path, connections: list, captured: list[Path]) -> tuple[int, float]:
    """The ceiling: DuckDB loading the very same records straight into tables typed as the
    contracts declare them (one ``read_json`` per stream, no protocol, no Python in the loop).
    Splitting the captured output into one file per stream is not timed."""
    streams = {}
    for connection, path in zip(connections, captured, strict=True):
        files = {s.name: (root / f"{connection.name}.{s.name}.records.jsonl").open("wb") for s in connection.streams}
        with path.open("rb") as lines:
            for line in lines:
                if line.startswith(b'{"type":"RECORD"'):
                    files[orjson.loads(line)["record"]["stream"]].write(line)
        for spec in connection.streams:
            files[spec.name].close()
            streams[spec.name] = (root / f"{connection.name}.{spec.name}.records.jsonl", spec.columns)
    started, loaded = time.perf_counter(), 0
    with duckdb.connect(str(root / "ceiling.duckdb")) as conn:
        for name, (path, columns) in streams.items():
            fields = ", ".join(f"{quote(c.name)} {c.duckdb_type}" for c in columns)
            conn.execute(
                f"create or replace table {quote(name)} as select unnest(record.data) from read_json(?, format = 'newline_delimited', "
                f"records = 'true', columns = {{'record': 'struct(data struct({fields}))'}})",
                [str(path)],
            )
            loaded += conn.execute(f"select count(*) from {quote(name)}").fetchone()[0]
    return loaded, time.perf_counter() - started


def _env(root: Path) -> dict[str, str]:
    return {**os.environ, "DATA_PLATFORM_ENV": "local", "DATA_PLATFORM_DATA_DIR": str(root), "DAGSTER_HOME": str(root / "dagster_home")}


def _cold_definitions_load(root: Path) -> float:
    """Seconds for a fresh interpreter to import the code location and build its Definitions."""
    (root / "dagster_home").mkdir(exist_ok=True)
    code = "import time; t = time.perf_counter(); import data_platform.definitions as d; d.build_definitions().resolve_asset_graph(); print(time.perf_counter() - t)"
    subprocess.run([sys.executable, "-c", code], env=_env(root), check=True, capture_output=True)  # first: may parse the manifest
    out = subprocess.run([sys.executable, "-c", code], env=_env(root), check=True, capture_output=True, text=True).stdout
    return float(out.strip().splitlines()[-1])


def _dagster_vs_plain_dbt(root: Path) -> tuple[float, float]:
    """The warehouse under ``root`` holds only synced raw tables: Dagster builds every model from
    scratch (one run over the simulated days), then plain ``dbt build --full-refresh`` does the same."""
    # the sync above wrote root/warehouse.duckdb: point both at it
    env = _env(root)
    out = subprocess.run(
        [sys.executable, "-m", "marketplace_example.benchmark_runs", "dagster-build"], env=env, check=True, capture_output=True, text=True
    ).stdout
    dagster_seconds = float(out.strip().splitlines()[-1])
    t = time.perf_counter()
    for domain in ("commerce", "growth"):  # growth reads commerce's models: commerce first
        subprocess.run(
            [
                *(DBT_EXECUTABLE, "build", "--full-refresh", "--quiet", "--profiles-dir", str(REPO_ROOT / "dbt")),
                *("--target-path", str(root / "dbt_target" / domain), "--log-path", str(root / "dbt_logs" / domain)),
            ],
            cwd=REPO_ROOT / "dbt" / domain,
            env=env,
            check=True,
            capture_output=True,
        )
    return dagster_seconds, time.perf_counter() - t


def cli(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m marketplace_example.benchmark", description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000, help="approximate number of source rows (default 1M)")
    parser.add_argument("--partition-days", type=int, default=365, help="days of the partition backfill benchmark (0 to skip)")
    parser.add_argument("--skip-dbt", action="store_true", help="skip the cold definitions load and the Dagster-vs-plain-dbt comparison")
    args = parser.parse_args(argv)
    return main(rows=args.rows, partition_days=args.partition_days, dbt=not args.skip_dbt)


if __name__ == "__main__":
    sys.exit(cli())
