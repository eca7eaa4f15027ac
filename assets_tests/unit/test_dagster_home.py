"""Where ``data-platform`` keeps Dagster's instance: its own home, or the one ``$DAGSTER_HOME`` names."""

from __future__ import annotations

import pytest

from data_platform.cli import prepare_dagster_home
from data_platform.settings import resolve_settings


@pytest.fixture(autouse=True)
def restored_dagster_home(monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)  # prepare_dagster_home sets it; monkeypatch puts it back


def test_without_dagster_home_the_instance_lives_in_the_data_folder_with_the_local_config(tmp_path):
    home = prepare_dagster_home(resolve_settings({"DATA_PLATFORM_DATA_DIR": str(tmp_path)}))
    assert home == tmp_path / "dagster_home"
    assert "default_limit: 1" in (home / "dagster.yaml").read_text()


def test_a_dagster_home_that_does_not_exist_yet_is_created_with_the_local_config(tmp_path):
    wanted = tmp_path / "not" / "yet"
    home = prepare_dagster_home(resolve_settings({"DATA_PLATFORM_DATA_DIR": str(tmp_path), "DAGSTER_HOME": str(wanted)}))
    assert home == wanted
    assert "default_limit: 1" in (wanted / "dagster.yaml").read_text()


def test_an_existing_dagster_home_is_used_as_it_is(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    home = prepare_dagster_home(resolve_settings({"DATA_PLATFORM_DATA_DIR": str(tmp_path), "DAGSTER_HOME": str(mine)}))
    assert home == mine
    assert list(mine.iterdir()) == [], "nothing written into a home the user set up"
