"""``dagster definitions validate -w workspace.yaml`` accepts every domain's code location: locally,
and in production with no credentials and no network after the ``prepare-dbt`` deploy step."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from data_platform.settings import REPO_ROOT

from ...support.environments import PROD_ENV


def validated_locations(environment: dict[str, str], folder: Path) -> set[str]:
    """The code locations ``dagster definitions validate`` accepts (it must exit 0)."""
    env = {**os.environ, **environment, "DATA_PLATFORM_DATA_DIR": str(folder), "DAGSTER_HOME": str(folder)}
    dagster = os.path.join(os.path.dirname(sys.executable), "dagster")
    proc = subprocess.run(
        [dagster, "definitions", "validate", "-w", "workspace.yaml"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    output = proc.stderr + proc.stdout
    return {name for name in ("platform", "commerce", "growth") if f"Validation successful for code location {name}" in output}


def test_dagster_definitions_validate_passes_in_production_without_credentials(tmp_path, prod_manifest):
    assert validated_locations(PROD_ENV, tmp_path) == {"platform", "commerce", "growth"}


def test_dagster_definitions_validate_passes_locally_with_every_domain(tmp_path):
    assert validated_locations({"DATA_PLATFORM_ENV": "local"}, tmp_path) == {"platform", "commerce", "growth"}
