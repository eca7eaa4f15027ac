"""Domains as a new team meets them, in real processes: the platform with the example removed and
one scaffolded domain runs end to end; ``dagster definitions validate`` loads every healthy
location next to a broken one, which fails alone, naming its file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from data_platform.settings import REPO_ROOT

BIN = Path(sys.executable).parent


@pytest.fixture
def without_the_example(tmp_path) -> dict[str, str]:
    """An environment whose domains and dbt folders hold none of the example: only the platform's shared dbt parts."""
    dbt = tmp_path / "dbt"
    shutil.copytree(REPO_ROOT / "dbt" / "macros", dbt / "macros")
    shutil.copy(REPO_ROOT / "dbt" / "profiles.yml", dbt / "profiles.yml")
    (tmp_path / "domains").mkdir()
    return {
        **os.environ,
        "DATA_PLATFORM_DATA_DIR": str(tmp_path / "data"),
        "DATA_PLATFORM_DOMAINS_DIR": str(tmp_path / "domains"),
        "DATA_PLATFORM_DBT_DIR": str(dbt),
        "DAGSTER_HOME": "",
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # this environment's tools first (.ci/lint runs them)
    }


def data_platform(env: dict[str, str], *args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "data-platform"), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=600)


def test_with_the_example_removed_a_scaffolded_domain_runs_end_to_end(without_the_example):
    created = data_platform(without_the_example, "new-domain", "scratch")
    assert created.returncode == 0, created.stderr[-3000:]
    run = data_platform(without_the_example, "run")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "domains: scratch" in run.stdout
    summary = {
        line.split()[0]: line.split()[1:] for line in run.stdout.splitlines() if line.startswith(("raw_scratch/", "staging/", "trusted/"))
    }
    assert summary["raw_scratch/items"][:2] == ["3", "3"], "3 rows synced, 3 in the table"
    assert "staging/stg_scratch__items" in summary
    assert "trusted/fct_scratch__item_changes" in summary, "its daily fact is built"
    assert "scratch: daily partitions 2026-01-05 .. " in run.stdout, (
        "from its data's first day (partitions_start), not the platform's default"
    )
    assert "checks: " in run.stdout and ", 0 failed" in run.stdout
    assert "marketplace" not in (run.stdout + run.stderr).lower(), "nothing of the example was loaded"


def test_a_scaffolded_domain_passes_ci_lint_as_written(without_the_example, tmp_path):
    """``.ci/lint`` (ruff, then sqlfluff with the dbt templater on each dbt project) on a checkout
    holding only the platform's root config and a domain just scaffolded."""
    assert data_platform(without_the_example, "new-domain", "scratch").returncode == 0
    shutil.copy(REPO_ROOT / ".sqlfluff", tmp_path / ".sqlfluff")  # the checkout's root config
    dbt, domains = without_the_example["DATA_PLATFORM_DBT_DIR"], without_the_example["DATA_PLATFORM_DOMAINS_DIR"]
    lint = subprocess.run(
        ["bash", str(REPO_ROOT / ".ci" / "lint"), dbt, domains],
        env=without_the_example,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert lint.returncode == 0, lint.stdout[-3000:] + lint.stderr[-3000:]
    assert "All Finished" in lint.stdout, "sqlfluff linted the scratch project"


def test_a_domains_dbt_project_without_its_sqlfluff_is_named_by_ci_lint(without_the_example, tmp_path):
    assert data_platform(without_the_example, "new-domain", "scratch").returncode == 0
    (Path(without_the_example["DATA_PLATFORM_DBT_DIR"]) / "scratch" / ".sqlfluff").unlink()
    lint = subprocess.run(
        ["bash", str(REPO_ROOT / ".ci" / "lint"), without_the_example["DATA_PLATFORM_DBT_DIR"], without_the_example["DATA_PLATFORM_DOMAINS_DIR"]],
        env=without_the_example, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert lint.returncode == 2 and "scratch has no .sqlfluff" in lint.stderr


def test_definitions_validate_loads_every_healthy_domain_and_names_the_broken_contract(without_the_example, tmp_path):
    for name in ("alpha", "beta"):
        assert data_platform(without_the_example, "new-domain", name).returncode == 0
    contract = Path(without_the_example["DATA_PLATFORM_DOMAINS_DIR"]) / "beta" / "contracts" / "raw_beta.items.odcs.yaml"
    contract.write_text(contract.read_text().replace("primaryKey: true", "primaryKey: maybe"))
    workspace = tmp_path / "workspace.yaml"
    domains = Path(without_the_example["DATA_PLATFORM_DOMAINS_DIR"])
    workspace.write_text(
        "load_from:\n"
        + "".join(f"  - python_file: {{relative_path: {domains / n / 'definitions.py'}, location_name: {n}}}\n" for n in ("alpha", "beta"))
    )
    proc = subprocess.run(
        [str(BIN / "dagster"), "definitions", "validate", "-w", str(workspace)],
        env=without_the_example, cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "Validation successful for code location alpha" in output
    assert "Validation failed for code location beta" in output
    assert "raw_beta.items.odcs.yaml" in output, output[-3000:]
