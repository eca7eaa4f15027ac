"""Builds made once per test session and shared by the pytest-xdist workers."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

SHARED_ROOT_VARIABLE = "DATA_PLATFORM_TESTS_SHARED"
"""Set by the test session (conftest) to a folder every pytest-xdist worker sees."""


@contextlib.contextmanager
def exclusive(lock_file: Path) -> Iterator[None]:
    """One process at a time (pytest-xdist workers share the builds)."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def shared_build(root: Path, name: str, build) -> Path:
    """``build(folder)`` once for the whole test session, whichever worker asks first."""
    folder, done = root / name, root / f"{name}.complete"
    with exclusive(root / f"{name}.lock"):
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            build(folder)
            done.touch()
    return folder


def shared_root(tmp_path_factory) -> Path:
    """A folder all pytest-xdist workers of this session see."""
    if os.environ.get(SHARED_ROOT_VARIABLE):
        return Path(os.environ[SHARED_ROOT_VARIABLE])
    base = tmp_path_factory.getbasetemp()
    return base.parent if base.name.startswith("popen-gw") else base


def check_evaluations(instance: dg.DagsterInstance, run_id: str) -> list[dg.AssetCheckEvaluation]:
    return [
        e.asset_check_evaluation_data
        for e in (r.dagster_event for r in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION))
    ]


def materializations(instance: dg.DagsterInstance, run_id: str) -> dict[str, dg.AssetMaterialization]:
    return {
        m.asset_key.to_user_string(): m
        for m in (r.asset_materialization for r in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION))
    }


def only_run_id(instance: dg.DagsterInstance) -> str:
    (record,) = instance.get_run_records()
    return record.dagster_run.run_id
