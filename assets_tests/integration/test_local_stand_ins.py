"""A domain's local stand-in (``local_stand_in: file.py:function``) runs in an interpreter of its own:
what it builds in memory leaves with it, and how it ends comes back to the run."""

import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from data_platform.domains import Domain
from data_platform.ingestion.source_systems import advance_stand_in
from data_platform.settings import HISTORY_START_FILE, resolve_settings

STAND_IN = """
import datetime as dt
import os
import signal

from data_platform.ingestion.source_systems import StandInReport


def advance(folder, as_of):
    (folder / "pid").write_text(str(os.getpid()))
    return StandInReport(until=as_of, rows_total={"orders": 3}, rows_written={"orders": 1}, history_start=dt.date(2026, 11, 2))


def refuse(folder, as_of):
    raise ValueError("the simulation's seed does not match the files in " + str(folder))


def die(folder, as_of):
    os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.fixture
def domain(tmp_path: Path) -> Domain:
    folder = tmp_path / "domains" / "shop"
    folder.mkdir(parents=True)
    (folder / "stand_in.py").write_text(textwrap.dedent(STAND_IN))
    return Domain(
        name="shop",
        folder=folder,
        description="a shop",
        owners=("team:shop",),
        slack_channel=None,
        connections=(),
        source_systems=(),
        consumers=(),
        schedules={},
        dbt_project_dir=None,
    )


@pytest.fixture
def settings(tmp_path: Path):
    settings = resolve_settings({"DATA_PLATFORM_DATA_DIR": str(tmp_path / "data"), "DATA_PLATFORM_SIM_AS_OF": "2026-12-04T06:00:00Z"})
    settings.source_systems_dir.mkdir(parents=True)
    return settings


def test_a_stand_in_runs_in_a_process_of_its_own_and_its_report_comes_back(domain, settings):
    report = advance_stand_in(domain, "stand_in.py:advance", settings)

    assert int((settings.source_systems_dir / "pid").read_text()) != os.getpid()
    assert report.rows_total == {"orders": 3} and report.until.isoformat() == "2026-12-04T06:00:00+00:00"
    assert (settings.source_systems_dir / HISTORY_START_FILE).read_text().strip() == "2026-11-02"


def test_a_stand_in_that_raises_raises_its_own_error_in_the_run(domain, settings):
    with pytest.raises(ValueError, match="seed does not match") as raised:
        advance_stand_in(domain, "stand_in.py:refuse", settings)
    assert "in refuse" in raised.value.__notes__[0]  # the stand-in's own traceback comes with it


def test_a_stand_in_killed_mid_way_is_an_error_naming_the_domain_and_the_stand_in(domain, settings):
    with pytest.raises(RuntimeError, match=r"domain shop: the local stand-in stand_in.py:die was killed by SIGKILL before it finished"):
        advance_stand_in(domain, "stand_in.py:die", settings)


def test_a_script_without_a_main_guard_can_advance_a_stand_in(domain, settings, tmp_path):
    """A script is not imported again by the stand-in's process (multiprocessing's spawn would)."""
    script = tmp_path / "advance.py"
    script.write_text(
        "import pickle, sys\n"
        "from data_platform.ingestion.source_systems import advance_stand_in\n"
        "domain, settings = pickle.loads(sys.stdin.buffer.read())\n"
        "print(advance_stand_in(domain, 'stand_in.py:advance', settings).rows_total)\n"
    )
    ran = subprocess.run([sys.executable, str(script)], input=pickle.dumps((domain, settings)), capture_output=True, timeout=120)

    assert ran.returncode == 0, ran.stderr.decode()
    assert ran.stdout.decode().strip() == "{'orders': 3}"
