"""The fixture domains (``assets_tests/fixture_domains``) as a team's checkout would hold them:
copied to a scratch folder next to the platform's shared dbt parts, the settings pointed there."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from data_platform.settings import REPO_ROOT, Settings, resolve_settings

FIXTURE_DOMAINS = Path(__file__).parents[1] / "fixture_domains"


def platform_dbt_parts(dbt: Path) -> None:
    """The platform's shared dbt parts (macros, profile) in ``dbt``, as every checkout has them."""
    shutil.copytree(REPO_ROOT / "dbt" / "macros", dbt / "macros")
    shutil.copy(REPO_ROOT / "dbt" / "profiles.yml", dbt / "profiles.yml")


def fixture_environment(root: Path, domains: tuple[str, ...] = ("shop", "reports")) -> dict[str, str]:
    """The fixture ``domains`` copied under ``root``; the variables that point the platform at them."""
    for name in domains:
        shutil.copytree(FIXTURE_DOMAINS / "domains" / name, root / "domains" / name)
        shutil.copytree(FIXTURE_DOMAINS / "dbt" / name, root / "dbt" / name)
    (root / "domains").mkdir(parents=True, exist_ok=True)
    platform_dbt_parts(root / "dbt")
    return {
        "DATA_PLATFORM_DATA_DIR": str(root / "data"),
        "DATA_PLATFORM_DOMAINS_DIR": str(root / "domains"),
        "DATA_PLATFORM_DBT_DIR": str(root / "dbt"),
    }


@contextlib.contextmanager
def fixture_settings(root: Path, domains: tuple[str, ...] = ("shop", "reports")) -> Iterator[Settings]:
    """Settings over a copy of the fixture domains, with the process environment pointed there too
    (dbt's profile and each domain's ``definitions.py`` read it)."""
    environment = fixture_environment(root, domains)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment.items():
            patch.setenv(name, value)
        patch.delenv("DAGSTER_HOME", raising=False)
        yield resolve_settings(environment)
