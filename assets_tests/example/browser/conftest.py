"""A live ``data-platform dev`` on a prepared data directory, and headless Chromium driving its UI.

The source systems are simulated up to the pinned instant ``AS_OF`` with every kind of dirt
(the ad platform repeats a key in its report), before the server starts; nothing has run in
Dagster yet. The tests of ``test_cockpit.py`` walk through it in order, as an operator would.
Screenshots of each step go to ``BROWSER_ARTIFACTS`` (default ``test-artifacts/browser``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from data_platform.settings import REPO_ROOT

from ...support.builds import exclusive
from ...support.live_dagster import free_port, graphql, locations, wait_for

AS_OF = "2026-10-20T12:00:00Z"
PARTITIONS_START = "2026-10-01"
ARTIFACTS = Path(os.environ.get("BROWSER_ARTIFACTS") or REPO_ROOT / "test-artifacts" / "browser")
DATA_PLATFORM = str(Path(sys.executable).with_name("data-platform"))


@dataclasses.dataclass
class Cockpit:
    port: int
    data: Path
    dev: subprocess.Popen
    log: Path
    before_start: str
    """The run made with Dagster's CLI before the UI and its daemon started (its checks failed on the dirty data)."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        return graphql(self.port, query, variables)

    def wait_for(self, condition, timeout: float, what: str, interval: float = 1.0):
        return wait_for(condition, timeout, what, [self.dev], self.log, interval)

    @property
    def alerts(self) -> list[str]:
        path = self.data / "alerts" / "alerts.jsonl"
        return path.read_text().splitlines() if path.exists() else []


@pytest.fixture(scope="module")
def cockpit(tmp_path_factory) -> Iterator[Cockpit]:
    root = tmp_path_factory.mktemp("cockpit")
    data = root / "data"
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env.update(
        DATA_PLATFORM_DATA_DIR=str(data),
        DATA_PLATFORM_SIM_AS_OF=AS_OF,
        DATA_PLATFORM_SIM_SCALE="0.3",
        DATA_PLATFORM_SIM_HISTORY_DAYS="19",
        DATA_PLATFORM_SIM_DIRT="everything",
        DATA_PLATFORM_PARTITIONS_START=PARTITIONS_START,
    )
    subprocess.run([DATA_PLATFORM, "simulate"], env=env, check=True, capture_output=True, cwd=REPO_ROOT)
    before_start = run_before_the_daemon(env, data)
    log = root / "dev.log"
    port = free_port()
    with log.open("w") as out:
        dev = subprocess.Popen(
            [DATA_PLATFORM, "dev", "--", "-h", "127.0.0.1", "-p", str(port)], env=env, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT
        )
    cockpit = Cockpit(port, data, dev, log, before_start)
    try:
        cockpit.wait_for(
            lambda: (
                (loaded := locations(port))
                and set(loaded) == {"platform", "commerce", "growth"}
                and set(loaded.values()) == {"RepositoryLocation"}
            ),
            300,
            "the code locations did not load",
        )
        # Dagster's community newsletter modal shows once per instance on a local address; seen,
        # it cannot cover a button the walk clicks later (``UI.open`` also dismisses it)
        cockpit.graphql("mutation { setNuxSeen }")
        yield cockpit
    finally:
        if dev.poll() is None:
            dev.send_signal(signal.SIGINT)
            dev.wait(timeout=60)
        shutil.copy(log, ARTIFACTS / "dev.log") if ARTIFACTS.exists() else None


def run_before_the_daemon(env: dict, data: Path) -> str:
    """A failure while no daemon runs: growth's ad-spend sync with Dagster's own CLI, in the
    instance the UI will serve (its contract and uniqueness checks fail on the dirty report)."""
    home = data / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO_ROOT / "platform" / "data_platform" / "instance" / "dagster.yaml", home / "dagster.yaml")
    location = REPO_ROOT / "platform" / "domains" / "growth" / "definitions.py"
    dagster = str(Path(sys.executable).with_name("dagster"))
    done = subprocess.run(
        [dagster, "job", "execute", "-f", str(location), "-j", "ingest_marketing_spend"],
        env={**env, "DAGSTER_HOME": str(home)},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    import dagster as dg
    from dagster._core.instance.ref import InstanceRef  # an instance on a folder, as the tests' platforms open it

    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:
        (record,) = instance.get_run_records(limit=1)
        return record.dagster_run.run_id


def system_chromium() -> str:
    """Debian's Chromium, installed on first use when missing (the README's test command then needs
    nothing preinstalled; ``.ci/run`` installs it up front). A machine where it cannot be installed
    fails here, naming what to do: the browser tests never skip."""
    with exclusive(Path(tempfile.gettempdir()) / "data-platform-chromium.lock"):  # two workers, one apt-get
        if not shutil.which("chromium"):
            if os.geteuid() != 0 or not shutil.which("apt-get"):
                pytest.fail("the browser tests need Debian's chromium: run `sudo apt-get install chromium` (or .ci/run, which does)")
            environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
                installed = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=900)
                assert installed.returncode == 0, f"{' '.join(command)} failed: {installed.stderr[-2000:]}"
    chromium = shutil.which("chromium")
    assert chromium, "apt-get installed chromium, yet no chromium is on PATH"
    return chromium


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    chromium = system_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def ui(browser, cockpit):
    """One page of the operator's browser, with the console's errors collected."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.set_default_timeout(30_000)
    ui = UI(page, cockpit)
    page.on("console", lambda m: ui.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: ui.console_errors.append(str(e)))
    page.on("response", lambda r: ui.http_errors.append(f"{r.status} {r.url}") if r.status >= 500 else None)
    yield ui
    page.close()


class UI:
    def __init__(self, page, cockpit: Cockpit):
        self.page = page
        self.cockpit = cockpit
        self.console_errors: list[str] = []
        self.http_errors: list[str] = []

    def open(self, path: str) -> None:
        self.page.goto(self.cockpit.url + path)
        self.page.wait_for_load_state("networkidle")
        skip = self.page.get_by_role("button", name="Skip")  # the community newsletter's modal, once per browser
        if skip.count():
            skip.click()

    def see(self, path: str, shot: str, showing: str | None = None, full_page: bool = False) -> str:
        """Open ``path``, wait until ``showing`` is on the page, keep a screenshot; the page's text."""
        self.open(path)
        if showing:
            self.page.get_by_text(showing).first.wait_for()
        self.shot(shot, full_page=full_page)
        return self.text()

    def text(self) -> str:
        return self.page.inner_text("body")

    def shot(self, name: str, full_page: bool = False) -> Path:
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed step leaves a screenshot of what the browser showed (``FAILED_<test>.png``)."""
    outcome = yield
    report = outcome.get_result()
    ui = item.funcargs.get("ui") if hasattr(item, "funcargs") else None
    if report.when == "call" and report.failed and ui is not None:
        with contextlib.suppress(Exception):
            ui.shot(f"FAILED_{item.name}", full_page=True)
