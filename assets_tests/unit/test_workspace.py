"""``workspace.yaml`` is generated from the domain folders: the UI and ``dagster definitions
validate`` find the domains the CLI finds, and CI fails when the committed file drifts."""

from __future__ import annotations

import pytest
import yaml

from data_platform.domains import DomainError
from data_platform.settings import resolve_settings
from data_platform.workspace import workspace_drift, workspace_text, write_workspace


def domains_in(root, *names: str):
    for name in names:
        (root / "platform" / "domains" / name).mkdir(parents=True)
        (root / "platform" / "domains" / name / "domain.yaml").write_text("description: x\n")
        (root / "platform" / "domains" / name / "definitions.py").write_text("")
    (root / "dbt").mkdir(exist_ok=True)
    return resolve_settings({"DATA_PLATFORM_DOMAINS_DIR": str(root / "platform" / "domains"), "DATA_PLATFORM_DBT_DIR": str(root / "dbt")})


def test_the_committed_workspace_lists_exactly_the_domain_folders():
    assert workspace_drift(resolve_settings({})) is None


def test_each_domain_folder_is_one_code_location_relative_to_the_workspace(tmp_path):
    settings = domains_in(tmp_path, "billing", "alpha")
    document = yaml.safe_load(workspace_text(settings, tmp_path))
    assert document["load_from"] == [
        {"python_module": {"module_name": "data_platform.platform_location", "location_name": "platform"}},
        *(
            {"python_file": {"relative_path": f"platform/domains/{name}/definitions.py", "location_name": name}}
            for name in ("alpha", "billing")
        ),
    ]


def test_a_workspace_missing_a_domain_is_drift_naming_the_command(tmp_path):
    settings = domains_in(tmp_path, "alpha")
    workspace = write_workspace(settings, tmp_path / "workspace.yaml")
    assert workspace_drift(settings, workspace) is None
    domains_in(tmp_path, "beta")
    assert "run `data-platform workspace`" in workspace_drift(settings, workspace)


def test_a_domain_folder_without_its_definitions_is_named(tmp_path):
    settings = domains_in(tmp_path, "alpha")
    (settings.domains_dir / "alpha" / "definitions.py").unlink()
    with pytest.raises(DomainError, match=r"alpha: has no definitions\.py"):
        workspace_text(settings, tmp_path)


def test_a_dbt_project_of_no_domain_is_named_with_where_its_domain_belongs(tmp_path):
    settings = domains_in(tmp_path, "alpha")
    workspace = write_workspace(settings, tmp_path / "workspace.yaml")
    (tmp_path / "dbt" / "alpha").mkdir()
    (tmp_path / "dbt" / "alpha" / "dbt_project.yml").write_text("name: alpha\n")
    assert workspace_drift(settings, workspace) is None, "a dbt project next to its domain folder"
    (tmp_path / "dbt" / "billing").mkdir()
    (tmp_path / "dbt" / "billing" / "dbt_project.yml").write_text("name: billing\n")
    drift = workspace_drift(settings, workspace)
    assert drift and f"{tmp_path / 'dbt' / 'billing'}: a dbt project of no domain" in drift and str(settings.domains_dir) in drift
