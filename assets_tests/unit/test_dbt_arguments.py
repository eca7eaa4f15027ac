"""How a dbt step turns its run config and partition window into dbt's command line, and what it leaves on disk."""

import json
import os

from data_platform.transformation.assets import DbtBuildConfig, dbt_build_args
from data_platform.transformation.project import prune_invocation_targets


def test_a_plain_run_is_dbt_build():
    assert dbt_build_args(DbtBuildConfig(), None) == ["build"]


def test_a_partition_window_reaches_dbt_as_vars():
    args = dbt_build_args(DbtBuildConfig(), {"min_date": "2026-10-10", "max_date": "2026-10-13"})
    assert args[:2] == ["build", "--vars"]
    assert json.loads(args[2]) == {"min_date": "2026-10-10", "max_date": "2026-10-13"}


def test_full_refresh_rebuilds_every_day_whatever_the_window():
    args = dbt_build_args(DbtBuildConfig(full_refresh=True), {"min_date": "2026-10-10", "max_date": "2026-10-11"})
    assert args == ["build", "--full-refresh"]


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
