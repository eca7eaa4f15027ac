"""fakesnow's Snowflake emulator as an HTTP server on 127.0.0.1, behind a thin proxy that the
test harness (never the production SQL) uses for what the emulator cannot run.

The proxy sits in front of fakesnow's ASGI app, in this process. It records every SQL
statement a client sends (the statement log, with the session's current query tag), and it
answers locally the valid Snowflake statements fakesnow does not implement:

- ``ALTER SESSION SET QUERY_TAG = '…'`` / ``UNSET QUERY_TAG``: remembered per session (so the
  log shows which tag each later statement ran under) and answered with ``select 1``;
- the ``COMMENT`` statements of dbt's ``persist_docs`` (fakesnow fails on a quote inside ``$$…$$``):
  answered with ``select 1``;
- ``create temporary table`` in a named schema (dbt-snowflake's unit tests): run as a
  ``transient`` table, which fakesnow accepts.

- ``object_insert`` (the quarantine's PII masking): run as ``json_merge_patch``;
- an internal error of the emulator (HTTP 500, which the connector would retry for minutes):
  answered as a SQL error.

And one thing real Snowflake does that fakesnow does not: ``seq4()`` skipping numbers (it is
documented as not gap-free), injected by doubling it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import json
import re
import socket
import threading
import time
from collections.abc import Iterator

QUERY_TAG = re.compile(
    r"^\s*alter\s+session\s+(?:set\s+query_tag\s*=\s*'((?:[^']|'')*)'|unset\s+query_tag)\s*;?\s*(?:/\*.*\*/)?\s*;?\s*$", re.I | re.S
)
TEMPORARY_TABLE = re.compile(r"^(\s*create\s+(?:or\s+replace\s+)?)temporary(\s+table\s)", re.I)
"""dbt-snowflake's unit tests create temporary tables in a named schema, which fakesnow refuses."""
SEQ4 = re.compile(r"\bseq4\(\)", re.I)
"""Snowflake documents that ``seq4()`` may skip numbers; fakesnow's never does, so the proxy makes it skip."""
UNSUPPORTED = [
    re.compile(r"^\s*alter\s+(?:table|view)\s+.*\s(?:alter|modify)\s+.*\scomment\s", re.I | re.S),
    re.compile(r"^\s*comment\s+(?:if\s+exists\s+)?on\s+(?:column|table|view)\s", re.I | re.S),
]


@dataclasses.dataclass(frozen=True)
class Statement:
    session: str
    sql: str
    query_tag: str


class StatementLog:
    def __init__(self):
        self.statements: list[Statement] = []
        self.tags: dict[str, str] = {}
        self._lock = threading.Lock()

    def record(self, session: str, sql: str) -> str | None:
        """Record ``sql``; return a replacement statement when the emulator cannot run it."""
        with self._lock:
            tag = QUERY_TAG.match(sql)
            if tag:
                self.tags[session] = (tag.group(1) or "").replace("''", "'")
                replacement = "select 1"
            elif any(p.match(sql) for p in UNSUPPORTED):
                replacement = "select 1"
            elif TEMPORARY_TABLE.match(sql):
                replacement = TEMPORARY_TABLE.sub(r"\1transient\2", sql, count=1)
            elif SEQ4.search(sql):
                replacement = SEQ4.sub("(seq4() * 2)", sql)
            elif "object_insert" in sql.lower():
                replacement = _object_insert_as_json_patch(sql)
            else:
                replacement = None
            self.statements.append(Statement(session, sql, self.tags.get(session, "")))
            return replacement


def _object_insert_as_json_patch(sql: str) -> str:
    """``object_insert(o, k, v, true)`` as ``json_merge_patch(o, json_object(k, v))``: fakesnow
    turns ``object_insert`` into DuckDB's ``struct_insert``, which refuses its JSON objects."""
    import sqlglot
    from sqlglot import exp

    def patch(node):
        if isinstance(node, exp.ObjectInsert):
            pair = exp.Anonymous(this="JSON_OBJECT", expressions=[node.args["key"], node.args["value"]])
            return exp.Anonymous(this="JSON_MERGE_PATCH", expressions=[node.this, pair])
        return node

    tree = sqlglot.parse_one(sql, read="snowflake")
    while tree.find(exp.ObjectInsert):  # nested calls: the outer is replaced first
        tree = tree.transform(patch)
    return tree.sql(dialect="snowflake")


def proxied_app(log: StatementLog):
    import fakesnow.server

    app = fakesnow.server.app

    async def proxy(scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith("/queries/v1/query-request"):
            return await app(scope, receive, send)
        chunks, more = [], True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        headers = dict(scope["headers"])
        if headers.get(b"content-encoding") == b"gzip":
            body = gzip.decompress(body)
        payload = json.loads(body)
        session = headers.get(b"authorization", b"").decode()[-12:]
        replacement = log.record(session, payload.get("sqlText", ""))
        if replacement is not None:
            payload["sqlText"] = replacement
            if replacement == "select 1":
                payload.pop("bindings", None)
        body = json.dumps(payload).encode()
        scope = {
            **scope,
            "headers": [(k, v) for k, v in scope["headers"] if k not in (b"content-encoding", b"content-length")]
            + [(b"content-length", str(len(body)).encode())],
        }
        sent = False

        async def replay():
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        failed = False

        async def answer(message):
            # fakesnow answers an internal error with HTTP 500, which the connector retries for
            # minutes: turn it into the SQL error a real server would give, so failures are fast
            nonlocal failed
            if message["type"] == "http.response.start" and message["status"] == 500:
                failed = True
                return
            if failed and message["type"] == "http.response.body":
                text = message.get("body", b"").decode(errors="replace")[:2000]
                error = json.dumps({"success": False, "code": "100000", "message": f"emulator error: {text}", "data": {}}).encode()
                await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
                await send({"type": "http.response.body", "body": error})
                return
            await send(message)

        return await app(scope, replay, answer)

    return proxy


@contextlib.contextmanager
def snowflake_emulator() -> Iterator[tuple[dict, StatementLog]]:
    """Start the proxied emulator; yield (connection kwargs, statement log)."""
    import uvicorn

    log = StatementLog()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(proxied_app(log), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="fakesnow", daemon=True)
    thread.start()
    while thread.is_alive() and not server.started:
        time.sleep(0.05)
    try:
        yield (
            dict(
                user="fake",
                password="snow",
                account="fakesnow",
                host="127.0.0.1",
                port=port,
                protocol="http",
                session_parameters={"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False},
                network_timeout=5,
            ),
            log,
        )
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def snowflake_env(connect: dict) -> dict[str, str]:
    """The platform's environment variables for the emulator (dbt's profile and SnowflakeResource read them)."""
    return {
        "SNOWFLAKE_ACCOUNT": connect["account"],
        "SNOWFLAKE_USER": connect["user"],
        "SNOWFLAKE_PASSWORD": connect["password"],
        "SNOWFLAKE_HOST": connect["host"],
        "SNOWFLAKE_PORT": str(connect["port"]),
        "SNOWFLAKE_PROTOCOL": connect["protocol"],
    }
