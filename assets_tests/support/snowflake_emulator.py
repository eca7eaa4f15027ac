"""fakesnow's Snowflake emulator as an HTTP server on 127.0.0.1, behind a thin proxy that the
test harness (never the production SQL) uses for what the emulator cannot run.

The proxy sits in front of fakesnow's ASGI app, in this process. It records every SQL
statement a client sends (the statement log, with the session's current query tag), and it
answers locally the valid Snowflake statements fakesnow does not implement:

- ``ALTER SESSION SET QUERY_TAG = '…'`` / ``UNSET QUERY_TAG``: remembered per session (so the
  log shows which tag each later statement ran under) and answered with ``select 1``;
- the column ``COMMENT`` statements of dbt's ``persist_docs``: answered with ``select 1``;
- ``create temporary table`` in a named schema (dbt-snowflake's unit tests): run as a
  ``transient`` table, which fakesnow accepts.

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
    re.compile(r"^\s*comment\s+(?:if\s+exists\s+)?on\s+column\s", re.I | re.S),
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
            else:
                replacement = None
            self.statements.append(Statement(session, sql, self.tags.get(session, "")))
            return replacement


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

        return await app(scope, replay, send)

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
