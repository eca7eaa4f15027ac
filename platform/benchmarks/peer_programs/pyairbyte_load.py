"""PyAirbyte reading the connectors into its DuckDB cache: ``python pyairbyte_load.py PLAN DATABASE``.

Each connection's connector runs as a local executable (``connector.sh``, which starts the
command in ``BENCHMARK_CONNECTOR``), with the streams, keys and cursors of the plan; PyAirbyte
types each stream from the connector's JSON schema. Prints {"seconds": s, "records": n}.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
from pathlib import Path

import airbyte as ab
from airbyte.caches import DuckDBCache

WRAPPER = Path(__file__).with_name("connector.sh")


def main(plan_path: str, database: str) -> None:
    plan = json.loads(Path(plan_path).read_text())
    cache = DuckDBCache(db_path=database, schema_name="main")
    started = time.perf_counter()
    loaded = 0
    for connection in plan["connections"]:
        os.environ["BENCHMARK_CONNECTOR"] = shlex.join(connection["command"])
        source = ab.get_source(
            f"source-{connection['name'].replace('_', '-')}",
            local_executable=str(WRAPPER),
            config=json.loads(Path(connection["config"]).read_text()),
            streams=[s["name"] for s in connection["streams"]],
        )
        for stream in connection["streams"]:
            # a key of one column only: PyAirbyte 0.71.3 nests a list override into one key path;
            # a composite key comes from the connector's discovered source_defined_primary_key
            if len(stream["primary_key"]) == 1:
                source.set_primary_key(stream["name"], stream["primary_key"][0])
            if stream["cursor"]:
                source.set_cursor_key(stream["name"], stream["cursor"])
        result = source.read(cache=cache)
        loaded += result.processed_records
    print(json.dumps({"seconds": time.perf_counter() - started, "records": loaded}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
