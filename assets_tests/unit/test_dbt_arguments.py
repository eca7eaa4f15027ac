"""How a dbt step turns its run config and partition window into dbt's command line."""

import json

from data_platform.transformation.assets import DbtBuildConfig, dbt_build_args


def test_a_plain_run_is_dbt_build():
    assert dbt_build_args(DbtBuildConfig(), None) == ["build"]


def test_a_partition_window_reaches_dbt_as_vars():
    args = dbt_build_args(DbtBuildConfig(), {"min_date": "2026-10-10", "max_date": "2026-10-13"})
    assert args[:2] == ["build", "--vars"]
    assert json.loads(args[2]) == {"min_date": "2026-10-10", "max_date": "2026-10-13"}


def test_full_refresh_rebuilds_every_day_whatever_the_window():
    args = dbt_build_args(DbtBuildConfig(full_refresh=True), {"min_date": "2026-10-10", "max_date": "2026-10-11"})
    assert args == ["build", "--full-refresh"]
