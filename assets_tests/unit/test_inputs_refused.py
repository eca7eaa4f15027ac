"""Inputs refused early and clearly: a domain name with a trailing newline, a partition range
that ends before it starts."""

import dagster as dg
import pytest

from data_platform.domains import DOMAIN_NAME
from data_platform.settings import resolve_settings
from data_platform.transformation.partitions import range_tags, refuse_reversed_range


@pytest.mark.parametrize("name", ["evil\n", "Growth", "1st", "a-b", "", "ok\nbad"])
def test_a_domain_name_is_lowercase_snake_case_whole(name):
    assert DOMAIN_NAME.fullmatch(name) is None


def test_a_good_domain_name_passes():
    assert DOMAIN_NAME.fullmatch("growth_2")


def test_scaffolding_a_domain_whose_name_ends_in_a_newline_is_refused(tmp_path):
    from data_platform.scaffold import ScaffoldError, create_domain

    settings = resolve_settings({"DATA_PLATFORM_DOMAINS_DIR": str(tmp_path / "domains"), "DATA_PLATFORM_DBT_DIR": str(tmp_path / "dbt")})
    with pytest.raises(ScaffoldError, match="lowercase snake_case"):
        create_domain("evil\n", settings)
    assert not (tmp_path / "domains").exists() or not any((tmp_path / "domains").iterdir())


def test_a_reversed_partition_range_is_refused_naming_it():
    with pytest.raises(dg.Failure, match=r"reversed: 2026-10-20 is after 2026-10-14; launch it as 2026-10-14...2026-10-20"):
        refuse_reversed_range(range_tags("2026-10-20", "2026-10-14"))


def test_a_range_in_order_and_a_single_day_pass():
    refuse_reversed_range(range_tags("2026-10-14", "2026-10-20"))
    refuse_reversed_range(range_tags("2026-10-14", "2026-10-14"))
    refuse_reversed_range({"dagster/partition": "2026-10-14"})
