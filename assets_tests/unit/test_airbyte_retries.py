"""Which Airbyte API failures are retried: only what can succeed on a second try."""

import pytest
import requests
from dagster import Failure

from data_platform.ingestion.airbyte_api import RETRYABLE_ERRORS, AirbyteApiError, RetryingAirbyteClient, is_retryable


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_slow_down_and_transient_server_errors_are_retried(status):
    assert is_retryable(status)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 501])
def test_answers_a_retry_cannot_change_are_not(status):
    assert not is_retryable(status)


def test_timeouts_and_refused_connections_are_retried():
    assert issubclass(requests.ConnectTimeout, RETRYABLE_ERRORS) and issubclass(requests.ReadTimeout, RETRYABLE_ERRORS)
    assert issubclass(requests.ConnectionError, RETRYABLE_ERRORS)


class ScriptedSession:
    """Answers requests from a script: a status code or an exception per attempt."""

    def __init__(self, script):
        self.script, self.calls = list(script), 0

    def request(self, **kwargs):
        self.calls += 1
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        response = requests.Response()
        response.status_code, response._content, response.reason = step, b'{"jobId": 7}' if step < 400 else b'{"message": "nope"}', "why"
        return response


def client(monkeypatch, script, retries=3) -> tuple[RetryingAirbyteClient, ScriptedSession]:
    session = ScriptedSession(script)
    api = RetryingAirbyteClient(
        rest_api_base_url="http://airbyte.invalid/api/public/v1",
        configuration_api_base_url="http://airbyte.invalid/api/v1",
        workspace_id="ws",
        request_max_retries=retries,
        request_retry_delay=0,
        request_timeout=1,
        max_items_per_page=100,
        poll_interval=0,
        poll_timeout=None,
        cancel_on_termination=True,
        poll_previous_running_sync=False,
    )
    monkeypatch.setattr(RetryingAirbyteClient, "_get_session", lambda self, **kwargs: session)
    return api, session


def test_a_transient_error_then_success_returns_the_answer(monkeypatch):
    api, session = client(monkeypatch, [503, requests.ConnectionError("refused"), 200])
    assert api._single_request("POST", "http://airbyte.invalid/api/public/v1/jobs") == {"jobId": 7}
    assert session.calls == 3


def test_a_client_error_fails_at_once_with_the_status_and_message(monkeypatch):
    api, session = client(monkeypatch, [401])
    with pytest.raises(AirbyteApiError, match=r"answered 401: \{\"message\": \"nope\"\} \(not retried\)"):
        api._single_request("GET", "http://airbyte.invalid/api/public/v1/jobs/7")
    assert session.calls == 1


def test_retries_stop_after_the_configured_number_naming_the_last_error(monkeypatch):
    api, session = client(monkeypatch, [requests.ReadTimeout("slow")] * 3, retries=2)
    with pytest.raises(Failure, match="failed after 3 attempts; last error: ReadTimeout: slow"):
        api._single_request("GET", "http://airbyte.invalid/api/public/v1/jobs/7")
    assert session.calls == 3


class SlowDownSession(ScriptedSession):
    """A 429 with a ``Retry-After`` header, then the answer."""

    def __init__(self, retry_after: str):
        super().__init__([429, 200])
        self.retry_after = retry_after

    def request(self, **kwargs):
        response = super().request(**kwargs)
        if response.status_code == 429:
            response.headers["Retry-After"] = self.retry_after
        return response


@pytest.mark.parametrize(
    "retry_after,waited",
    [("20", 20.0), ("3600", 120.0), ("soon", 0.0)],
    ids=["as asked", "bounded", "unreadable: the client's own delay"],
)
def test_a_429_waits_as_long_as_the_server_asks_within_bounds(monkeypatch, retry_after, waited):
    api, _ = client(monkeypatch, [])
    session = SlowDownSession(retry_after)
    monkeypatch.setattr(RetryingAirbyteClient, "_get_session", lambda self, **kwargs: session)
    sleeps: list[float] = []
    monkeypatch.setattr("data_platform.ingestion.airbyte_api.time.sleep", sleeps.append)
    assert api._single_request("POST", "http://airbyte.invalid/api/public/v1/jobs") == {"jobId": 7}
    assert sleeps == [waited]


def test_a_retry_after_given_as_a_date_is_read_as_the_seconds_until_it():
    import datetime as dt

    from data_platform.ingestion.airbyte_api import retry_after_seconds

    now = dt.datetime(2026, 12, 4, 12, 0, 0, tzinfo=dt.UTC)
    assert retry_after_seconds("Fri, 04 Dec 2026 12:00:30 GMT", now) == 30.0
    assert retry_after_seconds(None, now) is None


def attempts(*streams_per_attempt):
    return [{"streamStats": [{"streamName": name, "stats": stats} for name, stats in streams]} for streams in streams_per_attempt]


def test_rows_of_a_job_are_summed_over_its_attempts(monkeypatch):
    api, _ = client(monkeypatch, [])
    first = [("payments", {"recordsCommitted": 400, "bytesCommitted": 4000})]
    second = [("payments", {"recordsCommitted": 600, "bytesCommitted": 6000})]
    monkeypatch.setattr(RetryingAirbyteClient, "job_attempts", lambda self, job_id: attempts(first, second))
    assert api.stream_figures(7) == {"payments": {"rows": 1000, "bytes": 10000, "counted": "committed"}}


def test_emitted_records_count_and_say_so_where_airbyte_reports_no_committed_ones(monkeypatch):
    api, _ = client(monkeypatch, [])
    only_emitted = [("payments", {"recordsEmitted": 250, "bytesEmitted": 2500})]
    monkeypatch.setattr(RetryingAirbyteClient, "job_attempts", lambda self, job_id: attempts(only_emitted))
    (figures,) = api.stream_figures(7).values()
    assert figures["rows"] == 250 and figures["counted"].startswith("emitted")
