"""``workspace.yaml``, generated from the domain folders, so the UI finds domains as the CLI does.

Dagster's UI and ``dagster definitions validate -w workspace.yaml`` load the code locations a
workspace file lists; the CLI finds domains by folder. A hand-kept list drifts: a domain added
and not listed never shows in the UI, a deleted one breaks it. So the file is written from the
folders (``data-platform workspace``; ``new-domain`` rewrites it), ``.ci/lint`` fails when the
committed one is out of step (``data-platform workspace --check``), and ``data-platform dev``
serves one generated from the same settings the CLI reads.
"""

from __future__ import annotations

from pathlib import Path

from data_platform.domains import DomainError, domain_folders
from data_platform.settings import REPO_ROOT, Settings

WORKSPACE_FILE = REPO_ROOT / "workspace.yaml"
LOCATION_FILE = "definitions.py"
HEADER = """\
# Generated from the domain folders by `data-platform workspace` (`data-platform new-domain` rewrites
# it; CI fails when it is out of step): do not edit. One code location per domain folder; a domain
# whose YAML, contract or dbt project is broken fails to load alone, the others load, and lineage
# across locations holds by asset key; `platform` serves cost per team and the catalog.
# DATA_PLATFORM_ENV picks the environment (see docs/production.md).
"""


PLATFORM_LINE = "  - python_module: {module_name: data_platform.platform_location, location_name: platform}\n"
"""The platform's own location (cost per team, the catalog): listed first, whatever the domains."""


def workspace_text(settings: Settings, relative_to: Path | None = REPO_ROOT) -> str:
    """The workspace listing every domain folder's code location (paths relative to ``relative_to``
    when under it, absolute otherwise)."""
    lines = [HEADER, "load_from:\n", PLATFORM_LINE]
    for folder in domain_folders(settings):
        location = folder / LOCATION_FILE
        if not location.exists():
            raise DomainError(f"{folder}: has no {LOCATION_FILE}, so no code location (`data-platform new-domain` writes the three lines)")
        path = location.relative_to(relative_to) if relative_to is not None and location.is_relative_to(relative_to) else location
        lines.append(f"  - python_file: {{relative_path: {path}, location_name: {folder.name}}}\n")
    return "".join(lines)


def write_workspace(settings: Settings, path: Path = WORKSPACE_FILE) -> Path:
    path.write_text(workspace_text(settings, path.parent))
    return path


def workspace_drift(settings: Settings, path: Path = WORKSPACE_FILE) -> str | None:
    """None when ``path`` lists exactly the domain folders and every dbt project belongs to one;
    else what is wrong and what to run."""
    domains = {folder.name for folder in domain_folders(settings)}
    orphans = sorted(p.parent for p in settings.dbt_dir.glob("*/dbt_project.yml") if p.parent.name not in domains)
    if orphans:
        return (
            f"{', '.join(map(str, orphans))}: a dbt project of no domain (no folder of that name in {settings.domains_dir}); "
            "a domain's dbt project is dbt/<domain> next to its folder (`data-platform new-domain` writes both): "
            "create the domain folder or delete the project"
        )
    expected = workspace_text(settings, path.parent)
    actual = path.read_text() if path.exists() else ""
    if actual == expected:
        return None
    return f"{path} does not list the domain folders of {settings.domains_dir}: run `data-platform workspace` to rewrite it"
