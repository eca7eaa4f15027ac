"""A stand-in for the Airbyte API on 127.0.0.1: the endpoints dagster-airbyte's client calls.

It serves the public REST API (``/api/public/v1``: token, workspace, connections, jobs
list/start/poll/cancel) and the configuration API (``/api/v1/connections/get``). Jobs
follow a script of statuses, one per poll, and any endpoint can be told to fail first.
Every request is recorded so tests can assert what the client actually did.

Races and credentials as a real server has them: a sync started by someone else between the
client's job listing and its ``POST /jobs`` (answered 409), a ``POST /jobs`` that creates the
job and answers too late for the client, and a token revoked mid-sync (the old one gets 401,
the token endpoint hands out a new one). The configuration API's ``/jobs/get`` returns the
attempts with per-stream statistics and a failure summary.
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

TOKEN = "token-abc"


@dataclasses.dataclass
class Job:
    job_id: int
    connection_id: str
    statuses: list[str]
    rows_synced: int
    polls: int = 0

    def payload(self) -> dict:
        status = self.statuses[min(self.polls, len(self.statuses) - 1)]
        return {
            "jobId": self.job_id,
            "status": status,
            "jobType": "sync",
            "connectionId": self.connection_id,
            "startTime": "2026-11-21T08:00:00Z",
            "duration": "PT1M2S",
            "rowsSynced": self.rows_synced if status == "succeeded" else 0,
            "bytesSynced": self.rows_synced * 120 if status == "succeeded" else 0,
        }


class FakeAirbyteApi:
    def __init__(self, workspace_id: str = "ws-1", client_id: str = "client-1", client_secret: str = "secret-1"):
        self.workspace_id, self.client_id, self.client_secret = workspace_id, client_id, client_secret
        self.requests: list[tuple[str, str]] = []
        self.jobs: dict[int, Job] = {}
        self.job_statuses = ["pending", "running", "succeeded"]
        self.rows_synced = 1234
        self.failures: dict[tuple[str, str], list[int]] = {}
        """(method, path regex) -> status codes to answer before answering normally."""
        self.stream_rows: dict[str, int] = {}
        """Per-stream records of each job (configuration API attempts); empty: no per-stream statistics."""
        self.race_on_post = False
        """POST /jobs finds that a sync just started: that job is created and the answer is 409."""
        self.post_delay = 0.0
        """Seconds POST /jobs waits after creating the job, before answering (a slow server)."""
        self.revoke_after_polls: int | None = None
        """After this many job polls, the current token is revoked (401) and a new one is issued."""
        self.token = TOKEN
        self.tokens_issued = 0
        self._polls = 0
        self._next_job = 100
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # ---- test controls -------------------------------------------------------------------
    def __enter__(self) -> FakeAirbyteApi:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def fail(self, method: str, path: str, *statuses: int) -> None:
        self.failures[(method, path)] = list(statuses)

    def add_running_job(self, connection_id: str, statuses: list[str]) -> Job:
        job = self._new_job(connection_id, statuses)
        return job

    def calls(self, method: str, path_regex: str) -> int:
        return sum(1 for m, p in self.requests if m == method and re.fullmatch(path_regex, p))

    def _new_job(self, connection_id: str, statuses: list[str]) -> Job:
        with self._lock:
            job = Job(self._next_job, connection_id, list(statuses), self.rows_synced)
            self.jobs[job.job_id] = job
            self._next_job += 1
            return job

    # ---- HTTP ----------------------------------------------------------------------------
    def _handler(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def _send(self, status: int, body: dict | None = None) -> None:
                data = json.dumps(body or {}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> dict:
                length = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(length) or b"{}")

            def _route(self, method: str) -> None:
                url = urlparse(self.path)
                path, query = url.path, parse_qs(url.query)
                api.requests.append((method, path))
                for (fail_method, pattern), statuses in api.failures.items():
                    if fail_method == method and re.fullmatch(pattern, path) and statuses:
                        return self._send(statuses.pop(0), {"message": "injected failure"})
                body = self._body() if method in ("POST",) else {}
                if path == "/api/public/v1/applications/token":
                    if (body.get("client_id"), body.get("client_secret")) != (api.client_id, api.client_secret):
                        return self._send(401, {"message": "invalid client credentials"})
                    api.tokens_issued += 1
                    return self._send(200, {"access_token": api.token, "token_type": "Bearer", "expires_in": 180})
                if self.headers.get("Authorization") != f"Bearer {api.token}":
                    return self._send(401, {"message": "missing or invalid bearer token"})
                if path == f"/api/public/v1/workspaces/{api.workspace_id}":
                    return self._send(200, {"workspaceId": api.workspace_id, "name": "marketplace"})
                if path == "/api/v1/connections/get":
                    return self._send(
                        200, {"connectionId": body.get("connectionId"), "name": "shop_db", "prefix": "", "syncCatalog": {"streams": []}}
                    )
                if path == "/api/public/v1/jobs" and method == "GET":
                    connection_id = query.get("connectionId", [None])[0]
                    jobs = [j.payload() for j in api.jobs.values() if j.connection_id == connection_id]
                    return self._send(200, {"data": jobs, "next": ""})
                if path == "/api/public/v1/jobs" and method == "POST":
                    job = api._new_job(body["connectionId"], api.job_statuses)
                    if api.race_on_post:
                        api.race_on_post = False
                        return self._send(409, {"message": f"a sync is already running for connection {body['connectionId']}"})
                    if api.post_delay:
                        time.sleep(api.post_delay)
                    return self._send(200, {"jobId": job.job_id, "status": "pending", "jobType": "sync"})
                if path == "/api/v1/jobs/get":
                    job = api.jobs.get(int(body.get("id", -1)))
                    if job is None:
                        return self._send(404, {"message": "no such job"})
                    status = job.payload()["status"]
                    attempt = {
                        "id": 0,
                        "status": status,
                        "streamStats": [
                            {
                                "streamName": name,
                                "streamNamespace": "raw_shop",
                                "stats": {"recordsCommitted": rows, "bytesCommitted": rows * 100},
                            }
                            for name, rows in api.stream_rows.items()
                        ],
                    }
                    if status == "failed":
                        attempt["failureSummary"] = {
                            "failures": [
                                {
                                    "failureOrigin": "source",
                                    "failureType": "config_error",
                                    "externalMessage": "Postgres: password authentication failed for user airbyte",
                                }
                            ]
                        }
                    return self._send(200, {"job": job.payload(), "attempts": [{"attempt": attempt}]})
                match = re.fullmatch(r"/api/public/v1/jobs/(\d+)", path)
                if match and int(match.group(1)) in api.jobs:
                    job = api.jobs[int(match.group(1))]
                    if method == "DELETE":
                        job.statuses, job.polls = ["cancelled"], 0
                        return self._send(200, job.payload())
                    payload = job.payload()
                    job.polls += 1
                    api._polls += 1
                    if api.revoke_after_polls is not None and api._polls >= api.revoke_after_polls:
                        api.revoke_after_polls = None
                        api.token = f"{TOKEN}-{api._polls}"  # revoked: the next request with the old token gets 401
                    return self._send(200, payload)
                return self._send(404, {"message": f"no route {method} {path}"})

            def do_GET(self):
                self._route("GET")

            def do_POST(self):
                self._route("POST")

            def do_DELETE(self):
                self._route("DELETE")

        return Handler
