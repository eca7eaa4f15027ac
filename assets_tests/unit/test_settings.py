"""The one resolver: environment variables in, typed settings out, mistakes named."""

from pathlib import Path

import pytest

from data_platform.settings import Environment, SettingsError, resolve_settings


def test_defaults_are_the_local_embedded_platform(tmp_path):
    settings = resolve_settings({"DATA_PLATFORM_DATA_DIR": str(tmp_path)})
    assert settings.environment is Environment.LOCAL and settings.is_local
    assert settings.warehouse.kind == "duckdb" and settings.warehouse.dbt_target == "duckdb"
    assert settings.stand_in_as_of is None, "local stand-ins move their systems to now"
    assert settings.partitions_start == "2025-01-01"


def test_locally_partitions_start_on_the_first_day_the_source_systems_hold(tmp_path):
    (tmp_path / "source_systems").mkdir()
    (tmp_path / "source_systems" / "history_start").write_text("2026-11-02\n")
    assert resolve_settings({"DATA_PLATFORM_DATA_DIR": str(tmp_path)}).partitions_start == "2026-11-02"
    explicit = {"DATA_PLATFORM_DATA_DIR": str(tmp_path), "DATA_PLATFORM_PARTITIONS_START": "2026-01-01"}
    assert resolve_settings(explicit).partitions_start == "2026-01-01", "the variable wins"


def test_a_damaged_history_start_record_is_named(tmp_path):
    (tmp_path / "source_systems").mkdir()
    (tmp_path / "source_systems" / "history_start").write_text("yesterday")
    with pytest.raises(SettingsError, match="history_start does not hold a YYYY-MM-DD date"):
        resolve_settings({"DATA_PLATFORM_DATA_DIR": str(tmp_path)})


def test_the_data_folder_holds_the_warehouse_and_the_local_sources(tmp_path):
    settings = resolve_settings({"DATA_PLATFORM_DATA_DIR": str(tmp_path)})
    assert settings.warehouse.duckdb_path == tmp_path / "warehouse.duckdb"
    assert settings.source_systems_dir == tmp_path / "source_systems"


def test_locally_raw_tables_are_in_the_duckdb_file_and_models_in_its_default_catalog(tmp_path):
    warehouse = resolve_settings({"DATA_PLATFORM_DATA_DIR": str(tmp_path)}).warehouse
    assert warehouse.raw_table("raw_shop", "orders") == "warehouse.raw_shop.orders"
    assert warehouse.analytics_table("trusted", "fct_orders") == "trusted.fct_orders"


def test_in_prod_raw_and_analytics_databases_come_from_the_environment():
    warehouse = resolve_settings(
        {"DATA_PLATFORM_ENV": "prod", "SNOWFLAKE_DATABASE": "LAND", "SNOWFLAKE_ANALYTICS_DATABASE": "MODELS"}
    ).warehouse
    assert warehouse.raw_table("raw_shop", "orders") == "LAND.raw_shop.orders"
    assert warehouse.analytics_table("ml", "customer_features") == "MODELS.ml.customer_features"
    assert warehouse.duckdb_path is None and warehouse.snowflake.role == "TRANSFORMER"


def test_a_snowflake_endpoint_is_parsed_once_with_its_port_a_number():
    warehouse = resolve_settings({"DATA_PLATFORM_ENV": "prod", "SNOWFLAKE_HOST": "127.0.0.1", "SNOWFLAKE_PORT": "8123"}).warehouse
    assert dict(warehouse.snowflake.endpoint) == {"host": "127.0.0.1", "port": 8123}


def test_airbyte_connection_ids_are_read_by_the_resolver_not_by_the_connection():
    airbyte = resolve_settings({"AIRBYTE_CONNECTION_ID_SHOP_DB": "c-1", "AIRBYTE_SERVER_URL": "http://airbyte:8000/"}).airbyte
    assert airbyte.connection_ids == {"AIRBYTE_CONNECTION_ID_SHOP_DB": "c-1"}
    assert (airbyte.server_url, airbyte.auth) == ("http://airbyte:8000", "none")


def test_alert_settings_flag_secrets_without_holding_them():
    alerting = resolve_settings({"SLACK_BOT_TOKEN": "xoxb-secret", "DATA_PLATFORM_SMTP_PASSWORD": "hunter2"}).alerting
    assert alerting.slack is True and alerting.smtp_password is True
    assert "xoxb-secret" not in repr(alerting) and "hunter2" not in repr(alerting)


def test_a_relative_data_folder_is_made_absolute(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert resolve_settings({"DATA_PLATFORM_DATA_DIR": "here"}).data_dir == tmp_path / "here"
    assert Path(resolve_settings({"DATA_PLATFORM_DATA_DIR": "~"}).data_dir) == Path.home()


def test_prod_is_snowflake_and_case_is_ignored():
    settings = resolve_settings({"DATA_PLATFORM_ENV": " PROD "})
    assert settings.environment is Environment.PROD and settings.warehouse.kind == "snowflake" and not settings.is_local


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"DATA_PLATFORM_ENV": "staging"}, "DATA_PLATFORM_ENV='staging' is not an environment; use one of"),
        ({"DATA_PLATFORM_SMTP_PORT": "smtp"}, "DATA_PLATFORM_SMTP_PORT='smtp' is not a port number"),
        ({"DATA_PLATFORM_ENV": "prod", "SNOWFLAKE_PORT": "eighty"}, "SNOWFLAKE_PORT='eighty' is not a port number"),
        ({"AIRBYTE_POLL_INTERVAL_SECONDS": "-1"}, "AIRBYTE_POLL_INTERVAL_SECONDS='-1' is not a number of seconds above 0, at most 600"),
        ({"AIRBYTE_POLL_INTERVAL_SECONDS": "1e12"}, "AIRBYTE_POLL_INTERVAL_SECONDS='1e12' is not a number of seconds above 0"),
        ({"AIRBYTE_POLL_TIMEOUT_SECONDS": "inf"}, "AIRBYTE_POLL_TIMEOUT_SECONDS='inf' is not a number of seconds above 0, at most a week"),
        ({"AIRBYTE_REQUEST_MAX_RETRIES": "100000000"}, "AIRBYTE_REQUEST_MAX_RETRIES='100000000' is not a whole number from 0 to 20"),
        (
            {"AIRBYTE_REQUEST_RETRY_DELAY_SECONDS": "nan"},
            "AIRBYTE_REQUEST_RETRY_DELAY_SECONDS='nan' is not a number of seconds from 0 to 300",
        ),
        ({"DATA_PLATFORM_SMTP_PORT": "70000"}, r"DATA_PLATFORM_SMTP_PORT='70000' is not a port number \(1-65535\)"),
        (
            {"DATA_PLATFORM_CONNECTOR_SILENCE_SECONDS": "0"},
            "DATA_PLATFORM_CONNECTOR_SILENCE_SECONDS='0' is not a number of seconds above 0",
        ),
        ({"DATA_PLATFORM_PARTITIONS_START": "21/11/2026"}, "DATA_PLATFORM_PARTITIONS_START='21/11/2026' is not a YYYY-MM-DD date"),
        ({"DATA_PLATFORM_DUCKDB_MEMORY_LIMIT": "lots"}, "DATA_PLATFORM_DUCKDB_MEMORY_LIMIT='lots' is not a size such as 1GB"),
        ({"DATA_PLATFORM_CONNECTOR_COMMIT_MB": "-1"}, "DATA_PLATFORM_CONNECTOR_COMMIT_MB='-1' is not a number of MiB"),
    ],
)
def test_a_bad_variable_is_a_clear_error_naming_it(environ, message):
    with pytest.raises(SettingsError, match=message):
        resolve_settings(environ)


def test_settings_are_read_from_the_mapping_given_not_the_process(monkeypatch):
    monkeypatch.setenv("DATA_PLATFORM_ENV", "staging")
    assert resolve_settings({}).is_local


@pytest.mark.parametrize(("value", "message"), [("yesterday", "not an ISO 8601 instant"), ("2026-10-20T12:00:00", "with a time zone")])
def test_a_pinned_simulation_instant_must_be_an_instant_with_a_zone(value, message):
    with pytest.raises(SettingsError, match=message):
        resolve_settings({"DATA_PLATFORM_SIM_AS_OF": value})
