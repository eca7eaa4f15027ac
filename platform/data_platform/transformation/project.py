"""A domain's dbt project and its manifest, prepared once and cached.

Each domain with dbt models has a project of its own, ``dbt/<domain>/``; they share the
platform's macros (``dbt/macros/``) and profile (``dbt/profiles.yml``). The manifest
(``dbt/<domain>/target/<target>/manifest.json``) is built by ``dbt parse``:

- locally (``dagster dev``, ``data-platform run``, tests): the first time definitions load,
  and again only when a file of the project (or a shared macro) is newer than the manifest;
- in production: at build time (``data-platform prepare-dbt`` in CI or the image build);
  loading definitions never parses, and a missing manifest is a clear error.
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
from pathlib import Path

import orjson
from dagster_dbt import DbtProject
from dagster_dbt.errors import DagsterDbtCliRuntimeError
from filelock import FileLock

from data_platform.settings import Settings
from data_platform.transformation.dbt_cli import PlatformDbtCliResource

DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))
"""The dbt next to this interpreter: PATH may not include the virtual environment."""
_PROJECT_SOURCES = ("dbt_project.yml", "models", "macros", "tests", "seeds", "snapshots")
_SHARED_SOURCES = ("profiles.yml", "macros")
PARTIAL_PARSE_FILE = "partial_parse.msgpack"


class ManifestMissing(RuntimeError):
    """Production definitions need a manifest built at build time."""


class DbtProjectError(RuntimeError):
    """A domain's dbt project does not parse; the message names the project and dbt's error (file, node)."""


@functools.cache
def dbt_project(project_dir: Path, target: str) -> DbtProject:
    """The project in ``project_dir`` (profiles from its parent, the dbt folder) for ``target``."""
    return DbtProject(project_dir=project_dir, profiles_dir=project_dir.parent, target=target, target_path=Path("target") / target)


def _newest_source_mtime(project_dir: Path) -> float:
    newest = 0.0
    for path in (*(project_dir / n for n in _PROJECT_SOURCES), *(project_dir.parent / n for n in _SHARED_SOURCES)):
        files = [path] if path.is_file() else path.rglob("*") if path.exists() else []
        newest = max([newest, *(f.stat().st_mtime for f in files if f.is_file())])
    return newest


def prepared_manifest(project_dir: Path, settings: Settings) -> Path:
    """The project's manifest for the environment's dbt target, parsing only when needed (local) or never (prod)."""
    project = dbt_project(project_dir, settings.warehouse.dbt_target)
    manifest = project.manifest_path
    if settings.is_local:
        if _stale(project_dir, manifest):
            # processes loading definitions at once (dagster dev's webserver and daemon, test
            # workers) must not parse into the same target folder together: one parses, the others wait
            manifest.parent.mkdir(parents=True, exist_ok=True)
            with FileLock(manifest.parent / "parse.lock"):
                if _stale(project_dir, manifest):
                    try:
                        parse(project, settings)
                    except DagsterDbtCliRuntimeError as error:
                        found = str(error).split("Errors parsed from dbt logs:")[-1].strip()
                        raise DbtProjectError(f"dbt project {project_dir} does not parse: {found}") from None
                    share_partial_parse(project_dir, manifest.parent)
    elif not manifest.exists():
        raise ManifestMissing(
            f"no dbt manifest at {manifest}: build it at deploy time with "
            "`DATA_PLATFORM_ENV=prod data-platform prepare-dbt` (dbt parse for the snowflake target)"
        )
    return manifest


def manifest_document(manifest: Path) -> dict:
    """The manifest's JSON, read once per version of the file (definitions read it in several places,
    and hand this same document to ``@dbt_assets``, so dagster-dbt does not read it again)."""
    return _manifest_document(manifest, manifest.stat().st_mtime_ns)


@functools.lru_cache(maxsize=16)
def _manifest_document(manifest: Path, _version: int) -> dict:
    return orjson.loads(manifest.read_bytes())


def share_partial_parse(project_dir: Path, target_path: Path) -> None:
    """Offer the partial-parse state dbt left in ``target_path`` to the project's next dbt invocation.

    dagster-dbt gives each invocation a fresh target folder and seeds it with
    ``<project>/target/partial_parse.msgpack`` when that file exists; without it every invocation
    parses the whole project (about 5 s here). dbt itself checks that the state matches its
    project, profile and vars and parses fully when it does not, so a stale file costs nothing
    but the parse it would have done anyway. Replaced atomically: another process may be reading it.
    """
    state = Path(target_path) / PARTIAL_PARSE_FILE
    if not state.exists():
        return
    shared = project_dir / "target" / PARTIAL_PARSE_FILE
    shared.parent.mkdir(parents=True, exist_ok=True)
    temporary = shared.with_name(f".{PARTIAL_PARSE_FILE}.{os.getpid()}")
    shutil.copyfile(state, temporary)
    os.replace(temporary, shared)


KEPT_INVOCATION_TARGETS = 20
"""Target folders of past dbt invocations kept per step (the latest runs' compiled SQL and results)."""


def prune_invocation_targets(project_dir: Path, step_name: str, keep: int = KEPT_INVOCATION_TARGETS) -> None:
    """dagster-dbt gives each invocation a target folder of its own (``target/<step>-<run>-<id>``:
    compiled SQL, run results, logs) and never removes one: a scheduled hourly step leaves 8,760 a
    year. Keep the newest ``keep`` of ``step_name``'s, remove the others."""
    folders = [p for p in (project_dir / "target").glob(f"{step_name}-*") if p.is_dir()]
    folders.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for old in folders[keep:]:
        shutil.rmtree(old, ignore_errors=True)  # another process may be removing it too


def _stale(project_dir: Path, manifest: Path) -> bool:
    return not manifest.exists() or manifest.stat().st_mtime < _newest_source_mtime(project_dir)


def dbt_cli(project: DbtProject, settings: Settings) -> PlatformDbtCliResource:
    """dbt for ``project``, writing the local warehouse in the settings' data folder."""
    return PlatformDbtCliResource(
        project_dir=project, dbt_executable=DBT_EXECUTABLE, environment={"DATA_PLATFORM_DATA_DIR": str(settings.data_dir)}
    )


def parse(project: DbtProject, settings: Settings) -> Path:
    """``dbt parse`` into the project's target path (what dagster-dbt's preparer does, with our dbt)."""
    dbt_cli(project, settings).cli(["--quiet", "parse"], target_path=project.target_path).wait()
    return project.manifest_path
