"""``dagster definitions validate -w workspace.yaml`` accepts every domain's code location: locally,
and in production with no credentials and no network after the ``prepare-dbt`` deploy step."""

from __future__ import annotations

import os
import subprocess
import sys

from data_platform.settings import REPO_ROOT

from ..conftest import PROD_ENV


def test_dagster_definitions_validate_passes_in_production_without_credentials(tmp_path, prod_manifest):
    env = {**os.environ, **PROD_ENV, "DATA_PLATFORM_DATA_DIR": str(tmp_path), "DAGSTER_HOME": str(tmp_path)}
    dagster = os.path.join(os.path.dirname(sys.executable), "dagster")
    proc = subprocess.run(
        [dagster, "definitions", "validate", "-w", "workspace.yaml"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    for location in ("commerce", "growth"):
        assert f"Validation successful for code location {location}" in proc.stderr + proc.stdout


def test_dagster_definitions_validate_passes_locally_with_every_domain(tmp_path):
    env = {**os.environ, "DATA_PLATFORM_ENV": "local", "DATA_PLATFORM_DATA_DIR": str(tmp_path), "DAGSTER_HOME": str(tmp_path)}
    dagster = os.path.join(os.path.dirname(sys.executable), "dagster")
    proc = subprocess.run(
        [dagster, "definitions", "validate", "-w", "workspace.yaml"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    for location in ("commerce", "growth"):
        assert f"Validation successful for code location {location}" in proc.stderr + proc.stdout
