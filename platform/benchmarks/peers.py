"""The peers, dlt and PyAirbyte, loading the same connectors' records into DuckDB.

Each peer is installed, pinned, into a virtual environment of its own (never the project's: their
pins are not ours), cached under ``~/.cache/data-platform/benchmark-peers``, and runs a program of
``benchmarks/peer_programs`` that reads the plan the sync figure writes: per connection its
connector command, config, configured catalog and streams (mode, key, cursor, declared columns).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import venv
from collections.abc import Sequence
from pathlib import Path

from benchmarks.report import Figure, progress
from data_platform.ingestion.connections import ConnectionSpec

PROGRAMS = Path(__file__).with_name("peer_programs")
CACHE = Path.home() / ".cache" / "data-platform" / "benchmark-peers"


@dataclasses.dataclass(frozen=True)
class Peer:
    name: str
    requirement: str
    program: str

    @property
    def environment(self) -> Path:
        return CACHE / re.sub(r"[^A-Za-z0-9.]+", "-", self.requirement)


PEERS = (
    Peer("dlt 1.31.0 (parquet loader)", "dlt[duckdb,parquet]==1.31.0", "dlt_load.py"),
    Peer("PyAirbyte 0.71.3 (DuckDB cache)", "airbyte==0.71.3", "pyairbyte_load.py"),
)


def installed(peer: Peer) -> Path:
    """The peer's Python, its environment made on first use."""
    python = peer.environment / "bin" / "python"
    marker = peer.environment / ".installed"
    if not marker.exists():
        progress(f"installing {peer.requirement} into {peer.environment} (once)")
        venv.EnvBuilder(with_pip=True, clear=True).create(peer.environment)
        subprocess.run([str(python), "-m", "pip", "install", "-q", peer.requirement], check=True, capture_output=True)
        marker.write_text(peer.requirement + "\n")
    return python


def write_plan(root: Path, connections: Sequence[ConnectionSpec]) -> Path:
    """What the peers load: the connections as the sync figure recorded them (``sync.recorded_reads``)."""
    plan = {
        "connections": [
            {
                "name": c.name,
                "namespace": c.destination_namespace,
                "command": list(c.embedded_source.command),
                "config": str(root / f"{c.name}.config.json"),
                "catalog": str(root / f"{c.name}.configured-catalog.json"),
                "streams": [
                    {
                        "name": s.name,
                        "sync_mode": s.sync_mode.value,
                        "primary_key": list(s.primary_key),
                        "cursor": s.cursor_field,
                        "columns": [[col.name, col.type] for col in s.columns],
                    }
                    for s in c.streams
                ],
            }
            for c in connections
        ]
    }
    path = root / "peers-plan.json"
    path.write_text(json.dumps(plan, indent=1))
    return path


def peer_figure(root: Path, plan: Path, synced: int, sync_seconds: float, notes: list[str]) -> Figure:
    """The embedded sync against the faster peer on the same records; goal: at least 5x faster."""
    timings = {}
    for peer in PEERS:
        database = root / f"peer-{peer.program}.duckdb"
        database.unlink(missing_ok=True)
        done = subprocess.run(
            [str(installed(peer)), str(PROGRAMS / peer.program), str(plan), str(database)],
            capture_output=True,
            text=True,
            cwd=root,
            env={
                **os.environ,
                "DO_NOT_TRACK": "1",
                "AIRBYTE_OFFLINE_MODE": "1",
            },  # PyAirbyte: no registry (no internet here), no usage reporting
        )
        if done.returncode:
            raise RuntimeError(f"{peer.name} failed:\n{done.stderr[-4000:]}")
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        timings[peer.name] = figures["seconds"]
        notes.append(
            f"{peer.name}: {figures['records']:,} records in {figures['seconds']:.1f}s ({figures['records'] / figures['seconds']:,.0f} rows/s); "
            f"the embedded sync ({synced:,} records in {sync_seconds:.1f}s) is {figures['seconds'] / sync_seconds:.1f}x faster"
        )
        progress(f"{peer.name} {figures['seconds']:.1f}s")
    faster = min(timings, key=timings.__getitem__)
    return Figure(
        "embedded sync vs the faster peer",
        f"embedded Airbyte sync of {synced:,} records, end to end, into DuckDB",
        sync_seconds,
        f"{faster}: the same connectors' records into DuckDB",
        timings[faster],
        max_ratio=0.2,
    )
