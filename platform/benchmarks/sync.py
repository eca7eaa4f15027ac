"""Figure: the embedded sync of every connection of the domains, end to end (connectors,
protocol, typed load, commits), against DuckDB's typed bulk load of the very same records (the
ceiling: ``read_json`` straight into tables typed as the contracts declare them). The notes add
the same sync replaying the connectors' recorded output (the destination's work alone) and the
peers, dlt and PyAirbyte, loading the same records (``benchmarks.peers``)."""

from __future__ import annotations

import dataclasses
import itertools
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import orjson

from benchmarks.domains import Bench
from benchmarks.peers import peer_figure, write_plan
from benchmarks.replay import catalog_path
from benchmarks.report import Figure, Sizes, alternated, progress
from embedded_airbyte import EmbeddedAirbyte, Source
from embedded_airbyte.protocol import configured_stream


def sync_figures(bench: Bench, sizes: Sizes, notes: list[str]) -> list[Figure]:
    """Every connection of the domains synced into a fresh warehouse, end to end, against DuckDB's
    typed bulk load of the very same records; the peers on the same records in the notes."""
    root, repeats = bench.root, sizes.repeats
    started = time.perf_counter()
    total, scale = bench.fill_rows(sizes.rows, history_days=sizes.history_days)
    os.sync()  # the stand-in's writes reach the disk before anything is timed: its writeback must not slow a commit
    progress(f"source systems filled: {total:,} rows (scale {scale:.2f}) in {time.perf_counter() - started:.1f}s")
    variables = {"source_systems": str(bench.settings().source_systems_dir)}
    connections = bench.connections()

    read_seconds, captured = recorded_reads(root, connections, variables)

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
        counts["loaded"], seconds = typed_bulk_load(root, streams)
        return seconds

    streams = records_by_stream(root, connections, captured)
    os.sync()
    sync_seconds, ceiling_seconds = alternated(sync_all, typed_load, min(3, repeats))
    synced, loaded = counts["synced"], counts["loaded"]
    t = time.perf_counter()
    for connection, recording in zip(connections, captured, strict=True):
        replay = Source((sys.executable, "-m", "benchmarks.replay", str(recording)))
        EmbeddedAirbyte(root / "replayed.duckdb").sync(dataclasses.replace(connection.embedded, source=replay), {})
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
    progress(f"embedded sync {sync_seconds:.1f}s, replayed {replay_seconds:.1f}s, typed bulk load {ceiling_seconds:.1f}s")
    figures = [
        Figure(
            "embedded sync vs DuckDB typed bulk load",
            f"embedded Airbyte sync of {synced:,} records, end to end (connectors included), into DuckDB",
            sync_seconds,
            f"DuckDB typed bulk load of the same {loaded:,} records (one read_json per stream)",
            ceiling_seconds,
            max_ratio=2.0,
        )
    ]
    if sizes.peers:
        figures.append(peer_figure(root, write_plan(root, connections), synced, sync_seconds, notes))
    return figures


def recorded_reads(root: Path, connections: list, variables: dict[str, str]) -> tuple[float, list[Path]]:
    """Each connection's connector read to a file (timed), with the configured catalog a first sync
    uses, and its discovered catalog beside it: the recordings the typed load and the replay use."""
    read_seconds, captured = 0.0, []
    for connection in connections:
        # the read the sync makes: the same configured catalog, no state (a first sync)
        config = connection.embedded_source.resolved_config(variables)
        discovered = EmbeddedAirbyte(root / "scratch.duckdb").discover(connection.embedded_source.source, config)
        catalog = {"streams": [configured_stream(discovered[s.name], s.stream) for s in connection.streams]}
        (root / f"{connection.name}.config.json").write_bytes(orjson.dumps(config))
        (root / f"{connection.name}.configured-catalog.json").write_bytes(orjson.dumps(catalog))
        out = root / f"{connection.name}.messages.jsonl"
        catalog_path(out).write_bytes(orjson.dumps({"type": "CATALOG", "catalog": {"streams": list(discovered.values())}}))
        command = [
            *connection.embedded_source.command,
            "read",
            "--config",
            str(root / f"{connection.name}.config.json"),
            "--catalog",
            str(root / f"{connection.name}.configured-catalog.json"),
        ]
        t = time.perf_counter()
        with out.open("wb") as f:
            subprocess.run(command, stdout=f, check=True)
        read_seconds += time.perf_counter() - t
        captured.append(out)
    return read_seconds, captured


def records_by_stream(root: Path, connections: list, captured: list[Path]) -> dict[str, tuple[Path, tuple]]:
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


def typed_bulk_load(root: Path, streams: dict[str, tuple[Path, tuple]]) -> tuple[int, float]:
    """The ceiling: DuckDB loading the very same records straight into tables typed as the
    contracts declare them (one ``read_json`` per stream, no protocol, no Python in the loop)."""
    database = root / "ceiling.duckdb"
    database.unlink(missing_ok=True)
    started, loaded = time.perf_counter(), 0
    with duckdb.connect(str(database)) as conn:
        for name, (path, columns) in streams.items():
            fields = ", ".join(f"{_quoted(c.name)} {c.duckdb_type}" for c in columns)
            conn.execute(
                f"create or replace table {_quoted(name)} as select unnest(record.data) from read_json(?, format = 'newline_delimited', "
                f"records = 'true', columns = {{'record': 'struct(data struct({fields}))'}})",
                [str(path)],
            )
            loaded += conn.execute(f"select count(*) from {_quoted(name)}").fetchone()[0]
    return loaded, time.perf_counter() - started


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
