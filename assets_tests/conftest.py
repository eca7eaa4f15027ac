"""Shared set-up of the suite.

Lanes: ``unit/`` (pure logic, milliseconds), ``integration/`` (real runs in-process, real
connector subprocesses, local stand-ins), ``e2e/`` (real processes: ``dagster dev`` with its
daemon, ``dagster definitions validate``, the CLI). Each test is marked with its folder's lane,
so ``pytest -m "not e2e"`` is the fast lane.

The platform's own tests (``unit/``, ``integration/``, ``e2e/`` here) run on fixture domains the
tests own (``fixture_domains/``); the example's tests live in ``example/`` and go with it.

What is costly is made once per session, whichever worker asks first, and shared. A test tree
may hold ``support/background_build.py``: the session starts it at once, in the background, so
no worker sits waiting for that build.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from .support.builds import SHARED_ROOT_VARIABLE

HERE = Path(__file__).parent
SUPPORT = HERE / "support"
LANES = ("unit", "integration", "e2e")
LONGEST_FIRST = (
    "test_cockpit.py", "test_benchmark_command.py", "test_pypi_connector.py", "test_readme_command.py", "test_backfill_with_daemon.py", "test_transformation_run.py", "test_partitions_and_automation.py",
    "test_warehouse_pool.py", "test_production_on_emulator.py", "test_dirty_sources.py", "test_blast_radius.py",
    "test_definitions_validate.py", "test_domains_cli.py", "test_fixture_domains.py", "test_domains.py",
)  # fmt: skip
"""Files in the order their cost suggests, so that the two workers finish together (a name not here: last)."""
AFTER_THE_BUILD = ("test_readme_command.py",)
"""Heavy though it does not need the build: run once the build no longer competes for the two cores."""
SHARED_ROOT = pytest.StashKey[Path]()
BUILDERS = pytest.StashKey[list]()


def background_builds() -> list[str]:
    """The modules of the test trees' background builds (``<tree>/support/background_build.py``)."""
    return [
        f"assets_tests.{path.parent.parent.name}.support.background_build" for path in sorted(HERE.glob("*/support/background_build.py"))
    ]


def pytest_configure(config: pytest.Config) -> None:
    """In the controlling process: a folder the workers share, and the background builds started
    at once (unless only unit tests were asked for)."""
    if hasattr(config, "workerinput") or os.environ.get(SHARED_ROOT_VARIABLE):
        return
    root = Path(tempfile.mkdtemp(prefix="data-platform-tests-"))
    os.environ[SHARED_ROOT_VARIABLE] = str(root)
    config.stash[SHARED_ROOT] = root
    config.stash[BUILDERS] = []
    asked = [Path(a.split("::")[0]).resolve() for a in config.args] or [HERE]
    if all("unit" in path.relative_to(HERE).parts for path in asked if HERE in (path, *path.parents)):
        return
    for module in background_builds():
        with (root / f"{module}.log").open("w") as log:
            config.stash[BUILDERS].append(
                subprocess.Popen([sys.executable, "-m", module, str(root)], cwd=HERE.parent, stdout=log, stderr=subprocess.STDOUT)
            )


def pytest_unconfigure(config: pytest.Config) -> None:
    for builder in config.stash.get(BUILDERS, []):
        if builder.poll() is None:
            builder.kill()
            builder.wait()
    if SHARED_ROOT in config.stash:
        shutil.rmtree(config.stash[SHARED_ROOT], ignore_errors=True)
        os.environ.pop(SHARED_ROOT_VARIABLE, None)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its lane. Order the files for two workers: first the lighter ones that
    need no background build (a ``built_…`` fixture, being built meanwhile), then the
    rest; in each group the longest first. A file's tests stay together (``--dist loadfile``)."""
    for item in items:
        lane = next((p for p in Path(item.path).relative_to(HERE).parts if p in LANES), None)
        if lane:
            item.add_marker(getattr(pytest.mark, lane))
    needs_build = {item.path for item in items if any(f.startswith("built_") for f in getattr(item, "fixturenames", ()))}
    first_seen = {path: n for n, path in reversed(list(enumerate(item.path for item in items)))}
    group = {path: path in needs_build or path.name in AFTER_THE_BUILD for path in first_seen}
    rank = {path: LONGEST_FIRST.index(path.name) if path.name in LONGEST_FIRST else len(LONGEST_FIRST) for path in first_seen}
    items.sort(key=lambda item: (group[item.path], rank[item.path], first_seen[item.path]))


# --- alerting: real receivers on 127.0.0.1 and the real sensor -------------------------------


@pytest.fixture
def receiver():
    """A real HTTP endpoint on 127.0.0.1 recording what is POSTed to it (webhook, Slack API stand-in)."""
    from .support.webhook_receiver import WebhookReceiver

    hook = WebhookReceiver()
    yield hook
    hook.close()


@pytest.fixture
def smtp():
    """A real SMTP server on 127.0.0.1 keeping the messages it receives."""
    from .support.smtp_receiver import SmtpReceiver

    server = SmtpReceiver()
    yield server
    server.close()
