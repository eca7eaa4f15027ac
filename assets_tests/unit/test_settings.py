"""The one resolver: environment variables in, typed settings out, mistakes named."""

from pathlib import Path

import pytest

from data_platform.environment import Environment, SettingsError, resolve_settings


def test_defaults_are_the_local_embedded_platform():
    settings = resolve_settings({})
    assert settings.environment is Environment.LOCAL and settings.is_local
    assert settings.warehouse_kind == "duckdb"
    assert (settings.simulation.seed, settings.simulation.scale, settings.simulation.history_days) == (42, 1.0, 30)
    assert settings.partitions_start == "2025-01-01"


def test_the_data_folder_holds_warehouse_sources_and_dagster_home(tmp_path):
    settings = resolve_settings({"DATA_PLATFORM_DATA_DIR": str(tmp_path)})
    assert settings.warehouse_path == tmp_path / "warehouse.duckdb"
    assert settings.source_systems_dir == tmp_path / "source_systems"
    assert settings.dagster_home == tmp_path / "dagster_home"


def test_a_relative_data_folder_is_made_absolute(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert resolve_settings({"DATA_PLATFORM_DATA_DIR": "here"}).data_dir == tmp_path / "here"
    assert Path(resolve_settings({"DATA_PLATFORM_DATA_DIR": "~"}).data_dir) == Path.home()


def test_prod_is_snowflake_and_case_is_ignored():
    settings = resolve_settings({"DATA_PLATFORM_ENV": " PROD "})
    assert settings.environment is Environment.PROD and settings.warehouse_kind == "snowflake" and not settings.is_local


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"DATA_PLATFORM_ENV": "staging"}, "DATA_PLATFORM_ENV='staging' is not an environment; use one of"),
        ({"DATA_PLATFORM_SIM_SEED": "forty-two"}, "a DATA_PLATFORM_SIM_\\* variable is not a number"),
        ({"DATA_PLATFORM_SIM_SCALE": "nan"}, "DATA_PLATFORM_SIM_SCALE=nan must be a positive finite number"),
        ({"DATA_PLATFORM_SIM_SCALE": "inf"}, "DATA_PLATFORM_SIM_SCALE=inf must be a positive finite number"),
        ({"DATA_PLATFORM_SIM_SCALE": "0"}, "DATA_PLATFORM_SIM_SCALE=0.0 must be a positive finite number"),
        ({"DATA_PLATFORM_SIM_HISTORY_DAYS": "0"}, "DATA_PLATFORM_SIM_HISTORY_DAYS=0 must be at least 1"),
        ({"DATA_PLATFORM_SIM_DIRT": "filthy"}, "DATA_PLATFORM_SIM_DIRT='filthy': use default, clean or everything"),
        ({"DATA_PLATFORM_PARTITIONS_START": "21/11/2026"}, "DATA_PLATFORM_PARTITIONS_START='21/11/2026' is not a YYYY-MM-DD date"),
    ],
)
def test_a_bad_variable_is_a_clear_error_naming_it(environ, message):
    with pytest.raises(SettingsError, match=message):
        resolve_settings(environ)


def test_settings_are_read_from_the_mapping_given_not_the_process(monkeypatch):
    monkeypatch.setenv("DATA_PLATFORM_ENV", "staging")
    assert resolve_settings({}).is_local


@pytest.mark.parametrize("scale", [float("nan"), float("inf"), -1.0, 0.0])
def test_the_simulation_itself_refuses_a_scale_that_is_not_a_positive_finite_number(scale):
    from data_platform.simulation.config import SimulationConfig

    with pytest.raises(ValueError, match="scale must be positive"):
        SimulationConfig(scale=scale)


@pytest.mark.parametrize(("value", "message"), [("yesterday", "not an ISO 8601 instant"), ("2026-10-20T12:00:00", "needs a time zone")])
def test_a_pinned_simulation_instant_must_be_an_instant_with_a_zone(value, message):
    with pytest.raises(SettingsError, match=message):
        resolve_settings({"DATA_PLATFORM_SIM_AS_OF": value})
