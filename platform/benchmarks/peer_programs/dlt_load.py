"""dlt loading the connectors' records into DuckDB: ``python dlt_load.py PLAN DATABASE``.

Each connection's connector runs its ``read`` (the same config and configured catalog as the
embedded sync's first sync); every RECORD becomes a row of its stream's table, typed as the
contract declares, deduplicated streams merged on their key, through dlt's parquet loader (its
fastest; the default JSONL loader is several times slower). Prints {"seconds": s, "records": n}.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dlt
import orjson

DLT_TYPES = {
    "string": "text",
    "integer": "bigint",
    "number": "decimal",
    "boolean": "bool",
    "date": "date",
    "timestamp_with_timezone": "timestamp",
    "json": "json",
}
DISPOSITIONS = {"full_refresh_overwrite": "replace", "incremental_append": "append", "incremental_append_dedup": "merge"}


def records(connection: dict):
    streams = {s["name"]: s for s in connection["streams"]}
    hinted: set[str] = set()
    read = [*connection["command"], "read", "--config", connection["config"], "--catalog", connection["catalog"]]
    with subprocess.Popen(read, stdout=subprocess.PIPE, bufsize=1 << 20) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            if not line.startswith(b'{"type":"RECORD"'):
                continue
            record = orjson.loads(line)["record"]
            name = record["stream"]
            if name in hinted:
                yield dlt.mark.with_table_name(record["data"], name)
                continue
            hinted.add(name)
            stream = streams[name]
            hints = dlt.mark.make_hints(
                table_name=name,
                write_disposition=DISPOSITIONS[stream["sync_mode"]],
                primary_key=stream["primary_key"] or None,
                columns=[{"name": c, "data_type": DLT_TYPES[t], "nullable": True} for c, t in stream["columns"]],
            )
            yield dlt.mark.with_hints(record["data"], hints)
    if proc.returncode:
        raise SystemExit(f"connector {connection['name']} exited with {proc.returncode}")


def main(plan_path: str, database: str) -> None:
    plan = json.loads(Path(plan_path).read_text())
    started = time.perf_counter()
    loaded = 0
    with tempfile.TemporaryDirectory(prefix="dlt-pipelines-") as pipelines:
        for connection in plan["connections"]:
            pipeline = dlt.pipeline(
                pipeline_name=f"bench_{connection['name']}",
                destination=dlt.destinations.duckdb(database),
                dataset_name=connection["namespace"],
                pipelines_dir=pipelines,
            )
            resource = dlt.resource(records(connection), name=connection["name"])
            pipeline.run(resource, loader_file_format="parquet")
            loaded += sum(pipeline.last_trace.last_normalize_info.row_counts.get(s["name"], 0) for s in connection["streams"])
    print(json.dumps({"seconds": time.perf_counter() - started, "records": loaded}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
