"""Talking to a live Dagster webserver: a free port, its GraphQL API, and waiting on it."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(port: int, query: str, variables: dict | None = None) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=body, headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        answer = json.load(response)
    assert "errors" not in answer, answer
    return answer["data"]


def wait_for(condition, timeout: float, what: str, servers: list[subprocess.Popen], log: Path, interval: float = 0.5):
    """Poll ``condition`` until it is truthy; fail at once, with the log's tail, if a server exits."""
    deadline = time.monotonic() + timeout
    while True:
        if any(server.poll() is not None for server in servers):
            raise AssertionError(f"a Dagster process exited:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(OSError):
            if value := condition():
                return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} after {timeout:.0f} s:\n{log.read_text()[-3000:]}")
        time.sleep(interval)


LOCATIONS = """{ workspaceOrError { ... on Workspace { locationEntries { name locationOrLoadError {
    __typename ... on PythonError { message } } } } } }"""


def locations(port: int) -> dict[str, str]:
    """Code location -> ``RepositoryLocation`` when loaded, else the load error's message."""
    entries = graphql(port, LOCATIONS)["workspaceOrError"]["locationEntries"]
    return {
        e["name"]: (e["locationOrLoadError"] or {}).get("message") or (e["locationOrLoadError"] or {}).get("__typename", "loading")
        for e in entries
    }
