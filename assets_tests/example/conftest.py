"""The example's shared set-up: the simulated marketplace, built once per session and shared by
the workers (the session starts ``support/background_build.py`` at once), copied for each test."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from ..support.alerting import AlertingSensor
from ..support.builds import check_evaluations, materializations, only_run_id, shared_build, shared_root
from ..support.environments import PROD_ENV
from .support.platforms import T0, Marketplace, Platform, build_platform, using

SUPPORT = Path(__file__).parents[1] / "support"


# --- built once per session, shared by the workers -------------------------------------------
# (the local dbt manifest needs nothing here: the platform parses it under a lock when stale)


@pytest.fixture(scope="session")
def prod_manifest(tmp_path_factory) -> Path:
    """The production manifests, built as the deploy step builds them: ``DATA_PLATFORM_ENV=prod
    data-platform prepare-dbt`` (dbt parse for Snowflake, placeholder credentials, no connection);
    returned as one merged document of the example domains' projects."""
    import json

    from .support.example import merged_manifest

    def prepare(_folder: Path) -> None:
        proc = subprocess.run(
            [sys.executable, "-m", "data_platform.cli", "prepare-dbt"],
            env={**os.environ, **PROD_ENV},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr

    shared_build(shared_root(tmp_path_factory), "prod_manifest", prepare)
    merged = tmp_path_factory.mktemp("prod_manifest") / "manifest.json"
    merged.write_text(json.dumps(merged_manifest("snowflake")))
    return merged


# --- the warehouse, built once --------------------------------------------------------------


@pytest.fixture(scope="session")
def built_platform(tmp_path_factory) -> Platform:
    """Simulated to T0 and materialized over START..T0 (every stream, model, check): read-only; copy it to change it."""
    return Platform(shared_build(shared_root(tmp_path_factory), "built_platform", build_platform))


@pytest.fixture(scope="session")
def build_history(built_platform, tmp_path_factory) -> tuple[list[dg.AssetCheckEvaluation], dict[str, dg.AssetMaterialization]]:
    """The build run's check evaluations and materializations (read from a copy: opening an instance may write to it)."""
    with built_platform.copy(tmp_path_factory.mktemp("history")).instance() as instance:
        run_id = only_run_id(instance)
        return check_evaluations(instance, run_id), materializations(instance, run_id)


@pytest.fixture
def platform(built_platform, tmp_path) -> Platform:
    """A private copy of the built platform, with the process environment pointed at it."""
    with using(built_platform.copy(tmp_path / "data")) as copy:
        yield copy


@pytest.fixture
def instance(platform):
    with platform.instance() as instance:
        yield instance


@pytest.fixture
def empty_platform(tmp_path):
    """A platform with nothing simulated or synced yet, for tests that need their own history."""
    with using(Platform(tmp_path / "data")) as fresh:
        yield fresh


# --- a simulated marketplace and an embedded Airbyte, without Dagster ----------------------


@pytest.fixture(scope="session")
def simulated_sources(tmp_path_factory) -> Path:
    """The marketplace's source systems at T0, simulated once per session."""
    return shared_build(
        shared_root(tmp_path_factory), "sources_t0", lambda folder: Marketplace(folder, folder / "warehouse.duckdb").simulate(T0)
    )


@pytest.fixture
def marketplace(simulated_sources, tmp_path) -> Marketplace:
    shutil.copytree(simulated_sources, tmp_path, dirs_exist_ok=True)
    return Marketplace(tmp_path, tmp_path / "warehouse.duckdb")


def killed_after(lines: int, connection) -> list[str]:
    """The connection's connector command, SIGKILLed after it wrote ``lines`` lines of ``read`` output."""
    return [sys.executable, str(SUPPORT / "killing_wrapper.py"), str(lines), *connection.embedded_source.command]


@pytest.fixture
def alerting(platform, instance, receiver, smtp, tmp_path):
    return AlertingSensor(platform.defs, instance, receiver, smtp, tmp_path / "alerts" / "alerts.jsonl")
