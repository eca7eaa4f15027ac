"""Production path: the same Airbyte assets sync through dagster-airbyte's client against an Airbyte API.

The API is a local stand-in on 127.0.0.1 (fake_airbyte_api.py) answering the endpoints the
client calls; there is no Airbyte server on this machine.
"""

from __future__ import annotations

import socket

import dagster as dg
import pytest

from data_platform.ingestion.assets import build_connection_assets
from data_platform.ingestion.keys import ZERO_ROWS_FLAG
from data_platform.ingestion.production_airbyte import SelfManagedAirbyte
from data_platform.settings import resolve_settings

from ...support.fake_airbyte_api import FakeAirbyteApi
from ..support.example import example_connections

CONNECTION_ID = "9f0c2a1e-0000-4000-8000-000000000001"


@pytest.fixture
def api():
    with FakeAirbyteApi() as fake:
        yield fake


@pytest.fixture
def shop_db_assets():
    settings = resolve_settings({"DATA_PLATFORM_ENV": "prod"})
    connection = {c.name: c for c in example_connections()}["shop_db"]
    return build_connection_assets(connection, settings.warehouse, "commerce")


def workspace(api: FakeAirbyteApi, **overrides) -> SelfManagedAirbyte:
    settings = dict(
        rest_api_base_url=f"{api.url}/api/public/v1",
        configuration_api_base_url=f"{api.url}/api/v1",
        workspace_id=api.workspace_id,
        client_id=api.client_id,
        client_secret=api.client_secret,
        poll_interval=0.01,
        poll_previous_running_sync=True,
        request_max_retries=3,
        request_retry_delay=0.01,
        connection_ids={"AIRBYTE_CONNECTION_ID_SHOP_DB": CONNECTION_ID},  # as the resolver reads them from the environment
    )
    return SelfManagedAirbyte(**{**settings, **overrides})


INSTANCE = dg.DagsterInstance.ephemeral()


def materialize(assets, airbyte, selection=None) -> dg.ExecuteInProcessResult:
    return dg.materialize([assets], resources={"airbyte": airbyte}, selection=selection, raise_on_error=False, instance=INSTANCE)


def failure_message(result: dg.ExecuteInProcessResult) -> str:
    """Every step failure's message with its causes (Dagster wraps the user error)."""
    messages = []
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.STEP_FAILURE:
            error = event.step_failure_data.error
            while error is not None:
                messages.append(error.message)
                error = error.cause
    return " ".join(messages)


def test_a_successful_sync_materializes_every_stream_with_job_metadata(api, shop_db_assets):
    result = materialize(shop_db_assets, workspace(api))
    assert result.success
    assert api.calls("POST", "/api/public/v1/applications/token") >= 1
    assert api.calls("POST", "/api/public/v1/jobs") == 1
    materialized = {e.asset_key.to_user_string(): e.materialization.metadata for e in result.get_asset_materialization_events()}
    assert set(materialized) == {f"raw_shop/{s}" for s in ("merchants", "products", "customers", "orders", "order_lines", "payments")}
    orders = materialized["raw_shop/orders"]
    assert orders["airbyte/job_id"].value == 100
    assert orders["airbyte/rows_synced_connection"].value == 1234
    assert orders["airbyte/connection_id"].value == CONNECTION_ID
    assert ZERO_ROWS_FLAG not in orders


def test_a_sync_already_in_flight_is_attached_to_not_failed(api, shop_db_assets):
    running = api.add_running_job(CONNECTION_ID, ["running", "running", "succeeded"])
    result = materialize(shop_db_assets, workspace(api))
    assert result.success
    assert api.calls("POST", "/api/public/v1/jobs") == 0, "no second sync is started"
    assert running.polls >= 3
    orders = next(e for e in result.get_asset_materialization_events() if e.asset_key.path[-1] == "orders")
    assert orders.materialization.metadata["airbyte/job_id"].value == running.job_id


def test_a_failed_job_fails_the_step_naming_the_connection_and_airbytes_reason(api, shop_db_assets):
    api.job_statuses = ["running", "failed"]
    result = materialize(shop_db_assets, workspace(api))
    assert not result.success
    assert (
        f"Airbyte connection shop_db ({CONNECTION_ID}): job 100 failed: source config_error: "
        "Postgres: password authentication failed for user airbyte"
    ) in failure_message(result)


def test_a_cancelled_job_fails_the_step(api, shop_db_assets):
    api.job_statuses = ["running", "cancelled"]
    result = materialize(shop_db_assets, workspace(api))
    assert not result.success
    assert "job 100 was cancelled" in failure_message(result)


# --- races and credentials ---------------------------------------------------------------------


def test_a_409_on_start_attaches_to_the_sync_that_started_meanwhile(api, shop_db_assets):
    api.race_on_post = True  # someone started a sync between our job listing and our POST
    result = materialize(shop_db_assets, workspace(api))
    assert result.success, failure_message(result)
    assert list(api.jobs) == [100], "no second job"
    assert api.jobs[100].polls >= 3, "the running job was watched to its end"
    orders = next(e for e in result.get_asset_materialization_events() if e.asset_key.path[-1] == "orders")
    assert orders.materialization.metadata["airbyte/job_id"].value == 100


def test_a_start_that_timed_out_is_looked_up_and_attached_not_started_twice(api, shop_db_assets):
    api.post_delay = 2.5  # the server creates the job, then answers after the client gave up
    result = materialize(shop_db_assets, workspace(api, request_timeout=1))
    assert result.success, failure_message(result)
    assert api.calls("POST", "/api/public/v1/jobs") == 1, "the POST is not retried before looking"
    assert list(api.jobs) == [100] and api.jobs[100].polls >= 3, "the job it started is the one watched"


def test_a_token_revoked_mid_sync_is_renewed_once_and_the_sync_completes(api, shop_db_assets):
    api.job_statuses = ["pending", "running", "running", "succeeded"]
    api.revoke_after_polls = 1
    result = materialize(shop_db_assets, workspace(api))
    assert result.success, failure_message(result)
    assert api.tokens_issued == 2
    assert api.jobs[100].payload()["status"] == "succeeded"


def test_a_cancel_after_a_revoked_token_still_cancels_the_job(api, shop_db_assets):
    api.job_statuses = ["running"]
    api.fail("DELETE", r"/api/public/v1/jobs/\d+", 401)  # the token died just before the cancel
    result = materialize(shop_db_assets, workspace(api, poll_timeout=0.2))
    assert not result.success and "not done after 0.2 s" in failure_message(result)
    assert api.calls("DELETE", r"/api/public/v1/jobs/\d+") == 2, "renewed once, then cancelled"
    assert api.jobs[100].payload()["status"] == "cancelled", "no Airbyte job left running"


def test_each_stream_carries_its_own_rows_from_the_jobs_statistics(api, shop_db_assets):
    api.stream_rows = {"merchants": 12, "products": 40, "customers": 30, "orders": 500, "order_lines": 900, "payments": 0}
    result = materialize(shop_db_assets, workspace(api))
    assert result.success
    metadata = {e.asset_key.path[-1]: e.materialization.metadata for e in result.get_asset_materialization_events()}
    assert metadata["orders"]["airbyte/rows_synced"].value == 500 and metadata["orders"]["airbyte/bytes_synced"].value == 50_000
    assert metadata["payments"]["airbyte/rows_synced"].value == 0, "one stream that stopped delivering is visible"
    assert metadata["payments"]["airbyte/figures"].value.startswith("per stream")


def test_without_per_stream_statistics_each_stream_says_it_carries_the_connection_total(api, shop_db_assets):
    result = materialize(shop_db_assets, workspace(api))
    orders = next(e for e in result.get_asset_materialization_events() if e.asset_key.path[-1] == "orders")
    assert "airbyte/rows_synced" not in orders.materialization.metadata
    assert orders.materialization.metadata["airbyte/figures"].value.startswith("connection total")


def test_server_errors_are_retried_until_success(api, shop_db_assets):
    api.fail("POST", "/api/public/v1/jobs", 503, 502)
    api.fail("GET", r"/api/public/v1/jobs/\d+", 500)
    result = materialize(shop_db_assets, workspace(api))
    assert result.success
    assert api.calls("POST", "/api/public/v1/jobs") == 3


def test_client_errors_are_not_retried(api, shop_db_assets):
    api.fail("POST", "/api/v1/connections/get", 404, 404, 404, 404)
    result = materialize(shop_db_assets, workspace(api, request_max_retries=3))
    assert not result.success
    assert api.calls("POST", "/api/v1/connections/get") == 1
    assert "answered 404" in failure_message(result) and "not retried" in failure_message(result)


def test_wrong_credentials_fail_at_once_with_the_apis_message(api, shop_db_assets):
    result = materialize(shop_db_assets, workspace(api, client_secret="wrong"))
    assert not result.success
    assert api.calls("POST", "/api/public/v1/applications/token") == 1
    assert "invalid client credentials" in failure_message(result)


def test_connection_errors_are_retried_then_reported(shop_db_assets):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    airbyte = SelfManagedAirbyte(
        rest_api_base_url=f"http://127.0.0.1:{port}/api/public/v1",
        configuration_api_base_url=f"http://127.0.0.1:{port}/api/v1",
        workspace_id="ws-1",
        request_max_retries=2,
        request_retry_delay=0.01,
        connection_ids={"AIRBYTE_CONNECTION_ID_SHOP_DB": CONNECTION_ID},
    )
    result = materialize(shop_db_assets, airbyte)
    assert not result.success
    assert "failed after 3 attempts" in failure_message(result) and "ConnectionError" in failure_message(result)


def test_a_poll_timeout_cancels_the_airbyte_job(api, shop_db_assets):
    api.job_statuses = ["running"]
    result = materialize(shop_db_assets, workspace(api, poll_timeout=0.2))
    assert not result.success
    assert "not done after 0.2 s" in failure_message(result)
    assert api.calls("DELETE", r"/api/public/v1/jobs/\d+") == 1


def test_a_succeeded_sync_that_moved_no_rows_is_flagged(api, shop_db_assets):
    api.rows_synced = 0
    result = materialize(shop_db_assets, workspace(api))
    assert result.success
    orders = next(e for e in result.get_asset_materialization_events() if e.asset_key.path[-1] == "orders")
    assert orders.materialization.metadata[ZERO_ROWS_FLAG].value is True
    warnings = [e.user_message for e in INSTANCE.all_logs(result.run_id) if "moved 0 rows" in e.user_message]
    assert warnings, "the zero-row sync is also reported in the run's logs"


def test_a_subset_still_records_the_streams_airbyte_synced_anyway(api, shop_db_assets):
    result = materialize(shop_db_assets, workspace(api), selection=[dg.AssetKey(["raw_shop", "orders"])])
    assert result.success
    planned = {e.asset_key.path[-1] for e in result.get_asset_materialization_events()}
    assert "orders" in planned and "payments" in planned, "the whole connection synced, so every stream is recorded"


def test_a_missing_connection_id_is_a_clear_error(api, shop_db_assets):
    result = materialize(shop_db_assets, workspace(api, connection_ids={}))
    assert not result.success
    assert "set the environment variable AIRBYTE_CONNECTION_ID_SHOP_DB" in failure_message(result)


def test_a_cancel_through_a_spell_of_server_errors_is_retried_until_confirmed_and_the_cause_kept(api, shop_db_assets):
    api.job_statuses = ["running"]
    api.fail("DELETE", r"/api/public/v1/jobs/\d+", *[503] * 6)  # more than one request's retries
    result = materialize(shop_db_assets, workspace(api, poll_timeout=0.2))
    assert not result.success and "not done after 0.2 s" in failure_message(result), "the cause, not the cancel's error"
    assert api.jobs[100].payload()["status"] == "cancelled", "no Airbyte job left running"
    assert api.calls("DELETE", r"/api/public/v1/jobs/\d+") == 7
