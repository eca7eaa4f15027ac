"""How a dbt step turns its run config and partition window into dbt's command line, and what it leaves on disk."""

import os

from dagster_dbt import DbtCliResource

from data_platform.settings import REPO_ROOT
from data_platform.transformation.assets import DbtBuildConfig, dbt_build_args
from data_platform.transformation.dbt_cli import NO_PARTITION_WINDOW, PlatformDbtCliResource, partition_window_environment
from data_platform.transformation.project import DBT_EXECUTABLE, prune_invocation_targets


def test_a_plain_run_is_dbt_build_with_no_vars_so_dbt_keeps_its_saved_parse():
    assert dbt_build_args(DbtBuildConfig()) == ["build"]


def test_full_refresh_is_dbt_build_full_refresh():
    assert dbt_build_args(DbtBuildConfig(full_refresh=True)) == ["build", "--full-refresh"]


def test_blocked_models_are_excluded_by_selector():
    excludes = ["source:shop.orders+", "source:shop.payments+"]
    assert dbt_build_args(DbtBuildConfig(), excludes) == ["build", "--exclude", "source:shop.orders+ source:shop.payments+"]


def test_a_partition_window_reaches_dbt_as_environment_variables():
    assert partition_window_environment("2026-10-10", "2026-10-13") == {
        "DBT_PARTITION_MIN_DATE": "2026-10-10",
        "DBT_PARTITION_MAX_DATE": "2026-10-13",
    }


def test_a_window_variable_left_in_the_shell_never_narrows_a_build(monkeypatch):
    monkeypatch.setenv("DBT_PARTITION_MIN_DATE", "2026-10-10")
    monkeypatch.setenv("DBT_PARTITION_MAX_DATE", "2026-10-11")
    seen = {}

    def record(self, args, **kwargs):
        seen.update({name: os.environ.get(name) for name in NO_PARTITION_WINDOW})

    monkeypatch.setattr(DbtCliResource, "cli", record)
    PlatformDbtCliResource(project_dir=str(REPO_ROOT / "dbt" / "commerce"), dbt_executable=DBT_EXECUTABLE).cli(["build"])
    assert seen == NO_PARTITION_WINDOW
    assert os.environ["DBT_PARTITION_MIN_DATE"] == "2026-10-10", "the shell's value is put back after the call"


def test_only_the_newest_invocation_target_folders_of_a_step_are_kept(tmp_path):
    target = tmp_path / "target"
    for n in range(25):
        folder = target / f"commerce_dbt_models-run{n:04d}-abcdefg"
        folder.mkdir(parents=True)
        os.utime(folder, (1_000_000 + n, 1_000_000 + n))
    (target / "growth_dbt_models-run0000-abcdefg").mkdir()
    (target / "partial_parse.msgpack").write_text("state")
    prune_invocation_targets(tmp_path, "commerce_dbt_models", keep=20)
    kept = sorted(p.name for p in target.iterdir())
    assert kept == [
        *(f"commerce_dbt_models-run{n:04d}-abcdefg" for n in range(5, 25)),
        "growth_dbt_models-run0000-abcdefg",
        "partial_parse.msgpack",
    ]
