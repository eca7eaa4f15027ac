"""Production Airbyte through dagster-airbyte's client, with the retry policy this platform needs.

dagster-airbyte's ``AirbyteClient`` retries every failed request, a 401 or a 404 included,
which turns a wrong credential or connection id into minutes of pointless retries. Here only
what can succeed on a second try is retried: timeouts, connection errors, 5xx responses (and
429, the API's "slow down"). Everything else fails at once with the status and the API's
own message. The workspace classes below are dagster-airbyte's, returning this client.

Races and credentials, which dagster-airbyte's client does not handle:

- a ``409`` on ``POST /jobs`` means a sync of the connection started meanwhile (a schedule
  in Airbyte, a person in its UI): the running job is attached to and waited for;
- a ``POST /jobs`` that timed out on our side may have started the job on the server: before
  any retry, the connection's jobs are looked up, and a running one is attached to, so no
  second job starts and none runs unwatched;
- a ``401`` with an application token (revoked or expired early) gets a fresh token once and
  the request goes on; the cancel that ends a failed poll goes through the same path, so a
  job is never left running because the token died;
- a failed job's error names the connection and Airbyte's own failure reason (from the
  configuration API's attempts), which also carry each stream's records and bytes.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import time
from collections.abc import Mapping
from typing import Any

import requests
from dagster import Failure
from dagster_airbyte import AirbyteCloudWorkspace, AirbyteWorkspace
from dagster_airbyte.resources import AirbyteClient, AirbyteOutput
from dagster_airbyte.translator import AirbyteJob, AirbyteJobStatusType

ACTIVE = (AirbyteJobStatusType.RUNNING, AirbyteJobStatusType.PENDING, AirbyteJobStatusType.INCOMPLETE)

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
RETRYABLE_ERRORS = (requests.Timeout, requests.ConnectionError)
"""Failures before an answer arrived: the request may succeed on a second try."""


CANCEL_LIMIT_SECONDS = 120.0
"""How long a cancel is retried until Airbyte confirms the job stopped."""
RETRY_AFTER_LIMIT_SECONDS = 120.0
"""The longest a ``Retry-After`` is waited for before a retry (a server asking for an hour is not waited on)."""


def retry_after_seconds(value: str | None, now: dt.datetime | None = None) -> float | None:
    """A ``Retry-After`` header's wait in seconds: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


def is_retryable(status_code: int) -> bool:
    """Whether an error answer can succeed on a second try: 429 (slow down) and the server's
    transient 5xx. Every other 4xx (bad credentials, unknown connection, conflict) cannot."""
    return status_code in RETRYABLE_STATUS


class AirbyteApiError(Failure):
    """The Airbyte API answered with an error that retrying cannot fix."""

    def __init__(self, description: str, status_code: int | None = None):
        super().__init__(description)
        self.status_code = status_code


class SyncConflict(AirbyteApiError):
    """``POST /jobs`` answered 409: a sync of the connection is already running."""


class RetryingAirbyteClient(AirbyteClient):
    def _single_request(
        self,
        method: str,
        url: str,
        data: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        include_additional_request_headers: bool = True,
        retry_timeouts: bool = True,
    ) -> Mapping[str, Any]:
        attempt, renewed = 0, False
        while True:
            asked_wait = None
            try:
                session = self._get_session(include_additional_request_headers=include_additional_request_headers)
                response = session.request(method=method, url=url, json=data, params=params, timeout=self.request_timeout)
                if response.status_code < 400:
                    return response.json()
                if response.status_code == 401 and include_additional_request_headers and self._uses_token() and not renewed:
                    # a token revoked or expired before its time: one fresh token, then the same request
                    self._log.warning(f"Airbyte API {method} {url}: 401 with the current token; renewing it once")
                    self._access_token_value, self._access_token_timestamp = None, None
                    renewed = True
                    continue
                if response.status_code == 409 and method == "POST" and url.endswith("/jobs"):
                    raise SyncConflict(f"Airbyte API {method} {url} answered 409: {response.text[:500]}", 409)
                if not is_retryable(response.status_code):
                    raise AirbyteApiError(
                        f"Airbyte API {method} {url} answered {response.status_code}: {response.text[:500]} (not retried)",
                        response.status_code,
                    )
                problem = f"{response.status_code} {response.reason}"
                asked_wait = retry_after_seconds(response.headers.get("Retry-After"))
            except RETRYABLE_ERRORS as error:
                if isinstance(error, requests.Timeout) and not retry_timeouts:
                    raise
                problem = f"{type(error).__name__}: {error}"
            if attempt >= self.request_max_retries:
                raise Failure(f"Airbyte API {method} {url} failed after {attempt + 1} attempts; last error: {problem}")
            attempt += 1
            wait = self.request_retry_delay * attempt
            if asked_wait is not None:  # the server said when: honoured, within bounds
                wait = min(max(wait, asked_wait), RETRY_AFTER_LIMIT_SECONDS)
            self._log.warning(f"Airbyte API {method} {url}: {problem}; retry {attempt}/{self.request_max_retries} in {wait:g} s")
            time.sleep(wait)

    def _uses_token(self) -> bool:
        return bool(self.client_id and self.client_secret)

    def running_job(self, connection_id: str) -> AirbyteJob | None:
        """The connection's job in flight, if any (the newest one)."""
        jobs = self.get_jobs_for_connection(connection_id, created_after=dt.datetime.now() - dt.timedelta(days=2))
        active = [job for job in jobs if job.status in ACTIVE]
        return max(active, key=lambda job: job.id) if active else None

    def start_or_attach(self, connection_id: str) -> AirbyteJob:
        """Start a sync, or attach to the one already running; never two jobs, never one unwatched."""
        running = self.running_job(connection_id)
        if running is not None:
            self._log.info(f"Job {running.id} already running for connection {connection_id}: attaching to it")
            return running
        for attempt in range(self.request_max_retries + 1):
            try:
                return AirbyteJob.from_job_details(
                    job_details=self._single_request(
                        method="POST",
                        url=f"{self.rest_api_base_url}/jobs",
                        data={"connectionId": connection_id, "jobType": "sync"},
                        retry_timeouts=False,
                    )
                )
            except SyncConflict:
                self._log.info(f"POST /jobs for connection {connection_id} answered 409: a sync started meanwhile")
            except requests.Timeout:
                self._log.warning(f"POST /jobs for connection {connection_id} timed out: looking for the job it may have started")
            running = self.running_job(connection_id)
            if running is not None:
                self._log.info(f"Job {running.id} found running for connection {connection_id}: attaching to it")
                return running
            time.sleep(self.request_retry_delay * (attempt + 1))
        raise Failure(f"could not start or find a sync of Airbyte connection {connection_id}")

    def job_attempts(self, job_id: int) -> list[Mapping[str, Any]]:
        """The job's attempts from the configuration API (failure summaries, per-stream statistics); [] when unavailable."""
        try:
            details = self._single_request(method="POST", url=f"{self.configuration_api_base_url}/jobs/get", data={"id": job_id})
        except Failure as error:
            self._log.warning(f"no attempt details for job {job_id}: {error}")
            return []
        return [a.get("attempt", a) for a in details.get("attempts", [])]

    def failure_reason(self, job_id: int) -> str:
        for attempt in reversed(self.job_attempts(job_id)):
            failures = (attempt.get("failureSummary") or {}).get("failures") or []
            if failures:
                first = failures[0]
                return f"{first.get('failureOrigin', 'unknown')} {first.get('failureType', '')}: {first.get('externalMessage') or first.get('internalMessage')}".strip()
        return "Airbyte gave no failure reason"

    def sync_and_poll(self, connection_id: str, connection_name: str | None = None) -> AirbyteOutput:
        """dagster-airbyte's ``sync_and_poll``, with the races and failures above handled."""
        name = f"{connection_name} ({connection_id})" if connection_name else connection_id
        connection_details = self.get_connection_details(connection_id)
        job = self.start_or_attach(connection_id)
        details: Mapping[str, Any] = {}
        started = dt.datetime.now()
        try:
            while True:
                if self.poll_timeout and dt.datetime.now() > started + dt.timedelta(seconds=self.poll_timeout):
                    raise Failure(f"Airbyte connection {name}: job {job.id} not done after {self.poll_timeout} s")
                time.sleep(self.poll_interval)
                details = self.get_job_details(job.id)
                job = AirbyteJob.from_job_details(job_details=details)
                if job.status in ACTIVE:
                    continue
                if job.status == AirbyteJobStatusType.SUCCEEDED:
                    break
                if job.status in (AirbyteJobStatusType.ERROR, AirbyteJobStatusType.FAILED):
                    raise Failure(f"Airbyte connection {name}: job {job.id} failed: {self.failure_reason(job.id)}")
                if job.status == AirbyteJobStatusType.CANCELLED:
                    raise Failure(f"Airbyte connection {name}: job {job.id} was cancelled")
                raise Failure(f"Airbyte connection {name}: job {job.id} in unexpected state {job.status}")
        finally:
            # a sync that has not finished must not outlive this step (a 401 here renews the token too)
            if self.cancel_on_termination and job.status in ACTIVE:
                self.cancel_until_confirmed(job.id, name)
        return AirbyteOutput(job_details=details, connection_details=connection_details)

    def cancel_until_confirmed(self, job_id: int, name: str) -> bool:
        """Cancel the job, again and again through a spell of server errors, until Airbyte says it is
        no longer running, for at most ``CANCEL_LIMIT_SECONDS``. Never raises: the failure that made
        the step cancel stays the step's error; a cancel that could not be confirmed is logged as an
        error naming the job to cancel by hand."""
        deadline = time.monotonic() + CANCEL_LIMIT_SECONDS
        while True:
            try:
                self.cancel_job(job_id)
                status = AirbyteJob.from_job_details(job_details=self.get_job_details(job_id)).status
                if status not in ACTIVE:
                    return True
                problem = f"the job is still {status.value}"
            except Failure as error:
                problem = str(error)
            if time.monotonic() > deadline:
                self._log.error(
                    f"Airbyte connection {name}: could not confirm job {job_id} cancelled within {CANCEL_LIMIT_SECONDS:g} s "
                    f"({problem}); it may still be running: cancel it in Airbyte"
                )
                return False
            self._log.warning(f"Airbyte connection {name}: cancelling job {job_id} again ({problem})")
            time.sleep(min(max(self.poll_interval, 0.01), 5.0))

    def stream_figures(self, job_id: int) -> dict[str, dict[str, Any]]:
        """Records and bytes per stream, summed over the job's attempts (an attempt that failed part
        way committed its share, and the next one goes on from its checkpoint); committed figures
        where Airbyte gives them, else emitted ones, said in ``counted``; {} when it gives none."""
        figures: dict[str, dict[str, Any]] = {}
        for attempt in self.job_attempts(job_id):
            for s in attempt.get("streamStats") or []:
                if not s.get("streamName"):
                    continue
                stats = s.get("stats") or {}
                committed = stats.get("recordsCommitted") is not None
                entry = figures.setdefault(s["streamName"], {"rows": 0, "bytes": 0, "counted": "committed"})
                entry["rows"] += int(stats.get("recordsCommitted" if committed else "recordsEmitted") or 0)
                entry["bytes"] += int(stats.get("bytesCommitted" if committed else "bytesEmitted") or 0)
                if not committed:
                    entry["counted"] = "emitted (Airbyte reported no committed records)"
        return figures


def _client_kwargs(workspace: AirbyteWorkspace | AirbyteCloudWorkspace) -> dict[str, Any]:
    return dict(
        rest_api_base_url=workspace.rest_api_base_url,
        configuration_api_base_url=workspace.configuration_api_base_url,
        workspace_id=workspace.workspace_id,
        client_id=workspace.client_id,
        client_secret=workspace.client_secret,
        request_max_retries=workspace.request_max_retries,
        request_retry_delay=workspace.request_retry_delay,
        request_timeout=workspace.request_timeout,
        max_items_per_page=workspace.max_items_per_page,
        poll_interval=workspace.poll_interval,
        poll_timeout=workspace.poll_timeout,
        cancel_on_termination=workspace.cancel_on_termination,
        poll_previous_running_sync=workspace.poll_previous_running_sync,
    )


class SelfManagedAirbyteWorkspace(AirbyteWorkspace):
    """``AirbyteWorkspace`` (self-managed Airbyte) with the retry policy above."""

    def get_client(self) -> AirbyteClient:
        return RetryingAirbyteClient(**_client_kwargs(self), username=self.username, password=self.password)


class CloudAirbyteWorkspace(AirbyteCloudWorkspace):
    """``AirbyteCloudWorkspace`` with the retry policy above."""

    def get_client(self) -> AirbyteClient:
        return RetryingAirbyteClient(**_client_kwargs(self))
