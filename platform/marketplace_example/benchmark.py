"""``python -m marketplace_example.benchmark``: the platform against the plain tool it wraps, each
figure printed as A, B and A/B next to its goal, never asserted (``--quick``: a small size, for a smoke test).

Figures (A is the platform, B the plain tool doing the same work on the same data):

1. embedded sync of every example connection (connector + protocol + typed load + checkpoints)
   against DuckDB's typed bulk load of the very same records (``read_json`` straight into tables
   typed as the contracts declare them): goal A/B <= 2 (the sync at half the ceiling or better);
2. the primary-key uniqueness check's query against ``count(*) - count(distinct key)`` on a
   table of 10M rows with some duplicates: A/B <= 1.2;
3. the cold definitions load (a fresh interpreter importing the code location and building its
   Definitions) against a fresh interpreter importing ``dagster`` and ``dagster_dbt``: A - B <= 0.5 s.
   Both run with bytecode caches, as any installed deployment has them;
4. the definitions of a synthetic 2,500-model dbt project through the platform's path (a domain,
   ``build_definitions``) against plain ``@dbt_assets`` over the same manifest: A/B <= 1.15;
5. every dbt model materialized through Dagster (one run over the simulated days) against plain
   ``dbt build --full-refresh`` of the same projects on the same data: A/B <= 1.15;
6. a 365-partition single-run backfill of the daily models against a full refresh of the same
   models: A/B <= 1.3 (and, for scale, one run per partition, sampled and projected).

Sizes: ``--rows`` source rows (default ~1M), ``--uniqueness-rows`` (10M), ``--models`` (2,500),
``--partition-days`` (365); ``--quick`` makes all of them small.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import orjson

from data_platform.domains import load_domains
from data_platform.ingestion.connections import EmbeddedSource
from data_platform.quality.stream_checks import duplicate_keys_query
from data_platform.reporting import peak_rss_mib
from data_platform.settings import REPO_ROOT, resolve_settings
from data_platform.transformation.project import DBT_EXECUTABLE
from data_platform.warehouse.sql import WarehouseDialect
from embedded_airbyte.destination import quote
from embedded_airbyte.protocol import configured_stream
from embedded_airbyte.runner import EmbeddedAirbyte
from marketplace_example.benchmark_project import synthetic_project
from marketplace_example.connectors.replay import catalog_path
from marketplace_example.simulation import DirtSwitches, SimulationConfig, simulate

ROWS_PER_SCALE_UNIT = 32_000  # source rows for scale 1.0 over 30 days of history
HISTORY_DAYS = 30


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


QUICK = Sizes(rows=20_000, uniqueness_rows=200_000, models=60, partition_days=10, partition_scale=0.05, partition_samples=2, repeats=1,
              storage_runs=10, storage_days=30)  # fmt: skip
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


def sync_figure(root: Path, rows: int, repeats: int, notes: list[str]) -> Figure:
    scale = max(0.05, rows / ROWS_PER_SCALE_UNIT)
    started = time.perf_counter()
    summary = simulate(SimulationConfig(seed=1, scale=scale, history_days=HISTORY_DAYS, dirt=DirtSwitches()), root / "sources")
    os.sync()  # the simulation's writes reach the disk before anything is timed: its writeback must not slow a commit
    total = sum(summary.rows_total.values())
    _progress(f"simulated {total:,} source rows (scale {scale:.1f}) in {time.perf_counter() - started:.1f}s")
    variables = {"source_systems": str(root / "sources")}
    connections = [c for d in load_domains(resolve_settings({})) for c in d.connections]

    read_seconds, captured = _recorded_reads(root, connections, variables)

    counts, run_number = {"synced": 0, "loaded": 0}, itertools.count()

    def sync_all() -> float:
        """Every connection synced into a fresh warehouse (a first sync), timed; the last one stays,
        as ``warehouse.duckdb``, for the dbt figure."""
        warehouse = root / f"warehouse-{next(run_number)}.duckdb"
        t = time.perf_counter()
        counts["synced"] = sum(
            EmbeddedAirbyte(warehouse).sync(connection.embedded, connection.embedded_source.resolved_config(variables)).records_synced
            for connection in connections
        )
        seconds = time.perf_counter() - t
        warehouse.replace(root / "warehouse.duckdb")
        return seconds

    def typed_load() -> float:
        counts["loaded"], seconds = _typed_bulk_load(root, streams)
        return seconds

    streams = _records_by_stream(root, connections, captured)
    os.sync()
    sync_seconds, ceiling_seconds = alternated(sync_all, typed_load, min(3, repeats))
    synced, loaded = counts["synced"], counts["loaded"]
    t = time.perf_counter()
    for connection, recording in zip(connections, captured, strict=True):
        replay = EmbeddedSource(command=(sys.executable, "-m", "marketplace_example.connectors.replay", str(recording)), config={})
        EmbeddedAirbyte(root / "replayed.duckdb").sync(dataclasses.replace(connection, embedded_source=replay).embedded, {})
    replay_seconds = time.perf_counter() - t
    notes.append(
        f"source connectors alone (read to a file): {total:,} rows in {read_seconds:.1f}s ({total / read_seconds:,.0f} rows/s); "
        f"embedded sync {synced / sync_seconds:,.0f} rows/s; typed bulk load {loaded / ceiling_seconds:,.0f} rows/s: "
        f"the sync reaches {ceiling_seconds / sync_seconds:.0%} of the ceiling"
    )
    notes.append(
        f"the same sync replaying the connectors' recorded output (the destination's work alone): {replay_seconds:.1f}s, "
        f"{replay_seconds / ceiling_seconds:.2f}x the typed bulk load; the connectors alone take {read_seconds / ceiling_seconds:.2f}x it"
    )
    _progress(f"embedded sync {sync_seconds:.1f}s, replayed {replay_seconds:.1f}s, typed bulk load {ceiling_seconds:.1f}s")
    return Figure(
        "embedded sync vs DuckDB typed bulk load",
        f"embedded Airbyte sync of {synced:,} records, end to end (connectors included), into DuckDB",
        sync_seconds,
        f"DuckDB typed bulk load of the same {loaded:,} records (one read_json per stream)",
        ceiling_seconds,
        max_ratio=2.0,
    )


def uniqueness_figure(root: Path, rows: int, repeats: int, floor: int = 3) -> Figure:
    """A table like a big raw orders stream: text keys, one key in 10,000 sent twice."""
    with duckdb.connect(str(root / "uniqueness.duckdb")) as conn:
        conn.execute(
            "create table orders as select 'ord_' || (case when i % 10000 = 9999 then i - 1 else i end) as order_id, "
            f"i % 97 as merchant_id, 'paid' as status from range({int(rows)}) r(i)"
        )
        check = duplicate_keys_query("orders", ["order_id"], WarehouseDialect("duckdb"))
        plain = "select count(*) - count(distinct order_id) from orders"

        def timed(sql: str) -> Callable[[], float]:
            def run() -> float:
                started = time.perf_counter()
                conn.execute(sql).fetchall()
                return time.perf_counter() - started

            return run

        a, b = alternated(timed(check), timed(plain), max(floor, repeats))
    _progress(f"uniqueness check {a:.2f}s, count distinct {b:.2f}s")
    return Figure(
        f"uniqueness check, {rows:,} rows",
        "primary_key_unique's query: duplicated keys, extra rows and a sample, one scan",
        a,
        "select count(*) - count(distinct order_id)",
        b,
        max_ratio=1.2,
    )


def cold_load_figure(root: Path, repeats: int, notes: list[str], floor: int = 3) -> Figure:
    env = {k: v for k, v in _env(root).items() if k != "PYTHONDONTWRITEBYTECODE"}  # as installed: bytecode cached
    (root / "dagster_home").mkdir(exist_ok=True)
    platform_code = (
        "import time; t = time.perf_counter(); import data_platform.definitions as d; "
        "d.build_definitions().resolve_asset_graph(); print(time.perf_counter() - t)"
    )
    plain_code = "import time; t = time.perf_counter(); import dagster, dagster_dbt; print(time.perf_counter() - t)"
    # for scale: plain dagster-dbt over the same two manifests (what any @dbt_assets project pays at load)
    plain_dbt_code = "\n".join(
        [
            "import time",
            "t = time.perf_counter()",
            "from pathlib import Path",
            "import dagster as dg",
            "from dagster_dbt import DbtProject, dbt_assets",
            "def models(context): ...",
            "projects = [DbtProject(project_dir=Path(p), profiles_dir=Path(p).parent, target='duckdb', target_path=Path('target') / 'duckdb')",
            f"            for p in {[str(REPO_ROOT / 'dbt' / d) for d in ('commerce', 'growth')]!r}]",
            "dg.Definitions(assets=[dbt_assets(manifest=p.manifest_path, project=p, name=p.project_dir.name)(models) for p in projects]).resolve_asset_graph()",
            "print(time.perf_counter() - t)",
        ]
    )

    def fresh(code: str) -> Callable[[], float]:
        return functools.partial(_seconds_printed, [sys.executable, "-W", "ignore", "-c", code], env)

    fresh(platform_code)(), fresh(plain_code)()  # warm: bytecode written, manifests parsed
    a, b = alternated(fresh(platform_code), fresh(plain_code), max(floor, repeats))
    plain_dbt = statistics.median(fresh(plain_dbt_code)() for _ in range(max(floor, repeats)))
    notes.append(
        f"cold load of plain dagster-dbt over the same two manifests (import, @dbt_assets each, Definitions): {plain_dbt:.2f}s; "
        f"the platform's definitions load {a - plain_dbt:+.2f}s over it"
    )
    _progress(f"cold definitions load {a:.2f}s, import dagster + dagster_dbt {b:.2f}s, plain dagster-dbt definitions {plain_dbt:.2f}s")
    return Figure(
        "cold definitions load",
        "fresh interpreter: import the code location, build and resolve its Definitions (both example domains)",
        a,
        "fresh interpreter: import dagster, dagster_dbt",
        b,
        max_extra=0.5,
    )


def synthetic_figure(root: Path, models: int, repeats: int, floor: int = 3) -> Figure:
    started = time.perf_counter()
    project = synthetic_project(root / "synthetic", models)
    _progress(f"synthetic dbt project of {models:,} models written and parsed in {time.perf_counter() - started:.1f}s")
    env = {**_env(root / "synthetic"), "DAGSTER_HOME": str(root / "dagster_home")}

    def fresh(command: str) -> Callable[[], float]:
        return functools.partial(
            _seconds_printed, [sys.executable, "-W", "ignore", "-m", "marketplace_example.benchmark_runs", command, str(project)], env
        )

    a, b = alternated(fresh("definitions-platform"), fresh("definitions-plain"), max(floor, repeats))
    _progress(f"{models:,}-model definitions: platform {a:.2f}s, plain @dbt_assets {b:.2f}s")
    return Figure(
        f"definitions of a {models:,}-model dbt project",
        "the platform's path: a domain holding the project, build_definitions, resolved asset graph",
        a,
        "plain @dbt_assets over the same manifest, Definitions, resolved asset graph",
        b,
        max_ratio=1.15,
    )


def dbt_figure(root: Path) -> Figure:
    """The warehouse under ``root`` holds only synced raw tables: Dagster builds every model from
    scratch (one run over the simulated days, as the main job does on an empty warehouse), then
    plain ``dbt build --full-refresh`` does the same."""
    env = {**_env(root), "DATA_PLATFORM_PARTITIONS_START": _data_start().isoformat()}
    dagster_seconds = _seconds_printed([sys.executable, "-m", "marketplace_example.benchmark_runs", "dagster-build"], env)
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
    plain_seconds = time.perf_counter() - t
    _progress(f"dbt through Dagster {dagster_seconds:.1f}s, plain dbt build {plain_seconds:.1f}s")
    return Figure(
        "dbt models through Dagster vs plain dbt",
        f"every dbt model of both domains materialized through Dagster, one run over the {HISTORY_DAYS + 1} simulated days",
        dagster_seconds,
        "plain dbt build --full-refresh of both projects, same data",
        plain_seconds,
        max_ratio=1.15,
    )


def partitions_figure(days: int, scale: float, samples: int, notes: list[str]) -> Figure:
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
        _progress(f"simulated {days} days ({sum(summary.rows_total.values()):,} source rows) in {time.perf_counter() - t:.1f}s")
        sample = sorted({(now.date() - dt.timedelta(days=d)).isoformat() for d in (days // 2, days // 3, 7 % days, 2 % days, 1)[:samples]})
        proc = subprocess.run(
            [sys.executable, "-m", "marketplace_example.benchmark_runs", "partitions", first, last, ",".join(sample)],
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
    _progress(f"{days}-day backfill {timings['range']:.1f}s, full refresh {timings['full_refresh']:.1f}s")
    return Figure(
        f"{days}-day single-run backfill vs full refresh",
        f"the daily models of both domains, {days} partitions in one run",
        timings["range"],
        "the same models, full refresh (dbt --full-refresh) of the same data",
        timings["full_refresh"],
        max_ratio=1.3,
    )


def _recorded_reads(root: Path, connections: list, variables: dict[str, str]) -> tuple[float, list[Path]]:
    """Each connection's connector read to a file (timed), with the configured catalog a first sync
    uses, and its discovered catalog beside it: the recordings the typed load and the replay use."""
    read_seconds, captured = 0.0, []
    for connection in connections:
        # the read the sync makes: the same configured catalog, no state (a first sync)
        config = connection.embedded_source.resolved_config(variables)
        discovered = EmbeddedAirbyte(root / "scratch.duckdb").discover(connection.embedded_source.source, config)
        catalog = {"streams": [configured_stream(discovered[s.name], s.stream) for s in connection.streams]}
        (root / "config.json").write_bytes(orjson.dumps(config))
        (root / "catalog.json").write_bytes(orjson.dumps(catalog))
        out = root / f"{connection.name}.messages.jsonl"
        catalog_path(out).write_bytes(orjson.dumps({"type": "CATALOG", "catalog": {"streams": list(discovered.values())}}))
        command = [
            *connection.embedded_source.command,
            "read",
            "--config",
            str(root / "config.json"),
            "--catalog",
            str(root / "catalog.json"),
        ]
        t = time.perf_counter()
        with out.open("wb") as f:
            subprocess.run(command, stdout=f, check=True)
        read_seconds += time.perf_counter() - t
        captured.append(out)
    return read_seconds, captured


def _records_by_stream(root: Path, connections: list, captured: list[Path]) -> dict[str, tuple[Path, tuple]]:
    """The captured RECORD lines split into one file per stream, with the stream's columns (not timed)."""
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
    return streams


def _typed_bulk_load(root: Path, streams: dict[str, tuple[Path, tuple]]) -> tuple[int, float]:
    """The ceiling: DuckDB loading the very same records straight into tables typed as the
    contracts declare them (one ``read_json`` per stream, no protocol, no Python in the loop)."""
    database = root / "ceiling.duckdb"
    database.unlink(missing_ok=True)
    started, loaded = time.perf_counter(), 0
    with duckdb.connect(str(database)) as conn:
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


def _seconds_printed(argv: list[str], env: dict[str, str]) -> float:
    """Run ``argv`` (a fresh interpreter timing itself) and return the seconds it printed last."""
    out = subprocess.run(argv, env=env, check=True, capture_output=True, text=True).stdout
    return float(out.strip().splitlines()[-1])


def _data_start() -> dt.date:
    return dt.datetime.now(dt.UTC).date() - dt.timedelta(days=HISTORY_DAYS)


def _progress(line: str) -> None:
    print(f"  {line}", flush=True)


def main(sizes: Sizes = Sizes(), dbt: bool = True) -> int:
    started = dt.datetime.now(dt.UTC)
    print(f"benchmark of {started:%Y-%m-%d %H:%M} UTC on {machine()}")
    print(f"sizes: {sizes.rows:,} source rows, uniqueness on {sizes.uniqueness_rows:,} rows, {sizes.models:,} synthetic models, "
          f"{sizes.partition_days} partition days; medians of {max(sizes.min_repeats, sizes.repeats)} alternated runs where repeated", flush=True)  # fmt: skip
    figures: list[Figure] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="data-platform-bench-") as tmp:
        root = Path(tmp)
        figures.append(sync_figure(root, sizes.rows, sizes.repeats, notes))
        figures.append(uniqueness_figure(root, sizes.uniqueness_rows, sizes.repeats, sizes.min_repeats))
        if dbt:
            figures.append(cold_load_figure(root, sizes.repeats, notes, sizes.min_repeats))
            figures.append(synthetic_figure(root, sizes.models, sizes.repeats, sizes.min_repeats))
            figures.append(dbt_figure(root))
    if dbt and sizes.partition_days:
        figures.append(partitions_figure(sizes.partition_days, sizes.partition_scale, sizes.partition_samples, notes))
    if sizes.storage_days:
        from marketplace_example.benchmark_storage import storage_figures

        figures.extend(storage_figures(sizes.storage_runs, sizes.storage_days, notes))
    notes.append(f"peak RSS of the benchmark's own process (simulation, syncs, loads): {peak_rss_mib():,.0f} MiB")
    notes.append(f"finished in {(dt.datetime.now(dt.UTC) - started).total_seconds() / 60:.1f} min")
    print_figures(figures, notes)
    return 0


def build_parser():
    """The benchmark's command line (the docs' command lines are parsed with it by a test)."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m marketplace_example.benchmark", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes (a few minutes)")
    parser.add_argument(
        "--smoke", action="store_true", help="every section once at the smallest size: the output's shape, no figure worth reading"
    )
    parser.add_argument("--rows", type=int, help="approximate number of source rows (default 1M)")
    parser.add_argument("--uniqueness-rows", type=int, help="rows of the uniqueness check's table (default 10M)")
    parser.add_argument("--models", type=int, help="models of the synthetic dbt project (default 2,500)")
    parser.add_argument("--partition-days", type=int, help="days of the partition backfill (default 365; 0 skips it)")
    parser.add_argument("--skip-dbt", action="store_true", help="only the sync and the uniqueness check")
    return parser


def cli(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    sizes = SMOKE if args.smoke else QUICK if args.quick else Sizes()
    given = {"rows": args.rows, "uniqueness_rows": args.uniqueness_rows, "models": args.models, "partition_days": args.partition_days}
    sizes = dataclasses.replace(sizes, **{k: v for k, v in given.items() if v is not None})
    return main(sizes, dbt=not args.skip_dbt)


if __name__ == "__main__":
    sys.exit(cli())
