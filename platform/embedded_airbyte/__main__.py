"""``python -m embedded_airbyte``: sync an Airbyte-protocol source connector into a DuckDB file.

    python -m embedded_airbyte sync --database warehouse.duckdb --namespace raw_shop \\
        --config config.json --stream orders:incremental_append_dedup:updated_at:order_id \\
        -- python -m my_connector

A stream is ``NAME[:MODE[:CURSOR[:KEY[,KEY...]]]]`` (MODE: full_refresh_overwrite, the default,
incremental_append or incremental_append_dedup); without ``--stream`` every stream the connector
discovers is synced in full. Columns are typed from the connector's discovered schema. Run it
again to sync incrementally from the state it stored. ``check`` and ``discover`` run those
commands. Prints a JSON summary; exits 1 naming what failed (never a record's content).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from embedded_airbyte.commits import DEFAULT_COMMIT_BYTES, DEFAULT_COMMIT_SECONDS, CommitPolicy
from embedded_airbyte.protocol import SyncFailed
from embedded_airbyte.runner import EmbeddedAirbyte
from embedded_airbyte.streams import Connection, Source, Stream, SyncMode


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m embedded_airbyte", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (("sync", "read the connector into the database"), ("check", "can it reach its source"), ("discover", "its streams")):
        command = commands.add_parser(name, help=text)
        command.add_argument(
            "--config", type=Path, help="the connector's config (JSON file); secrets belong in it, never on the command line"
        )
        command.add_argument(
            "--pypi", metavar="NAME==VERSION", help="install this pinned PyPI connector; the command is then its executable"
        )
        command.add_argument("--connectors", type=Path, help="where PyPI connectors are installed (default: beside the database)")
        if name == "sync":
            command.add_argument("--database", type=Path, required=True, help="the DuckDB file (created if missing)")
            command.add_argument("--namespace", required=True, help="the schema the streams land in")
            command.add_argument("--connection", help="the connection's name, which keeps its state (default: the namespace)")
            command.add_argument("--stream", action="append", default=[], metavar="NAME[:MODE[:CURSOR[:KEYS]]]")
            command.add_argument(
                "--commit-mb", type=float, default=DEFAULT_COMMIT_BYTES / (1 << 20), help="commit every this many MiB of records"
            )
            command.add_argument("--commit-seconds", type=float, default=DEFAULT_COMMIT_SECONDS, help="... or this often")
            command.add_argument("--memory-limit", help="DuckDB's memory limit, e.g. 1GB (default: DuckDB's, 80%% of the machine)")
        command.add_argument("source", nargs=argparse.REMAINDER, help="-- then the connector's command")
    return parser


def parse_stream(text: str) -> Stream:
    """``NAME[:MODE[:CURSOR[:KEY,KEY]]]`` as a stream; a bad one raises naming the part."""
    name, mode, cursor, keys = [*text.split(":"), "", "", ""][:4]
    if not name:
        raise ValueError(f"--stream {text!r}: no stream name")
    try:
        sync_mode = SyncMode(mode or SyncMode.FULL_REFRESH_OVERWRITE.value)
    except ValueError:
        raise ValueError(f"--stream {text!r}: unknown sync mode {mode!r} (one of {[m.value for m in SyncMode]})") from None
    primary_key = tuple(k for k in keys.split(",") if k)
    if sync_mode is SyncMode.INCREMENTAL_APPEND_DEDUP and not primary_key:
        raise ValueError(f"--stream {text!r}: a deduplicated stream needs a primary key")
    return Stream(name, sync_mode, cursor or None, primary_key)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command = [part for part in args.source if part != "--"] if args.source[:1] == ["--"] else args.source
    if not command:
        print("error: give the connector's command after --", file=sys.stderr)
        return 2
    config = json.loads(args.config.read_text()) if args.config else {}
    database = getattr(args, "database", None) or Path("embedded_airbyte.duckdb")
    try:
        runner = EmbeddedAirbyte(
            database,
            connector_cache=args.connectors,
            commits=CommitPolicy(int(args.commit_mb * (1 << 20)), args.commit_seconds) if args.command == "sync" else None,
            memory_limit=getattr(args, "memory_limit", None),
        )
        source = Source(tuple(command), args.pypi)
        if args.command == "check":
            runner.check(Source(runner.command(source)), config)
            print(json.dumps({"status": "SUCCEEDED"}))
        elif args.command == "discover":
            print(json.dumps(sorted(runner.discover(Source(runner.command(source)), config)), indent=2))
        else:
            streams = tuple(parse_stream(s) for s in args.stream) or tuple(
                Stream(name) for name in runner.discover(Source(runner.command(source)), config)
            )
            connection = Connection(args.connection or args.namespace, args.namespace, source, streams)
            result = runner.sync(connection, config)
            print(
                json.dumps(
                    {
                        "sync_id": result.sync_id,
                        "seconds": round(result.duration_seconds, 3),
                        "streams": {
                            name: {"records_synced": s.records_synced, "rows_in_table": s.rows_in_table, "table": s.table}
                            for name, s in result.streams.items()
                        },
                    },
                    indent=2,
                )
            )
    except (SyncFailed, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
