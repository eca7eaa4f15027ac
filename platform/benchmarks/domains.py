"""The domains a benchmark runs against, and their source systems filled to a size.

Each domain's local stand-in (``local_stand_in`` in its ``domain.yaml``) fills its source
systems, as ``data-platform run`` does. The benchmark sizes a fill with the simulation knobs
``DATA_PLATFORM_SIM_SCALE``, ``…_HISTORY_DAYS`` and ``…_SEED`` (the example's simulator reads
them; a stand-in that does not is benchmarked at the size it makes), and reaches a number of
rows by calibrating the scale on a small first fill.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from benchmarks.report import local_env
from data_platform.domains import Domain, load_domains
from data_platform.ingestion.connections import ConnectionSpec
from data_platform.ingestion.source_systems import advance_stand_in
from data_platform.settings import Settings, resolve_settings

CALIBRATION_SCALE = 1.0
"""Small scales are not linear (a simulation keeps a floor of merchants and products): calibrate at 1.0."""


@dataclasses.dataclass(frozen=True)
class Bench:
    """The domains benchmarked (None: every domain folder), with their data under ``root``."""

    root: Path
    names: tuple[str, ...] | None = None

    def env(self, **extra: str) -> dict[str, str]:
        return local_env(self.root, **extra)

    def settings(self) -> Settings:
        return resolve_settings(self.env())

    def domains(self) -> list[Domain]:
        return load_domains(self.settings(), self.names)

    def connections(self) -> list[ConnectionSpec]:
        return [c for d in self.domains() for c in d.connections]

    def dbt_projects(self) -> list[Path]:
        """The domains' dbt projects, those that publish models to other domains first (they read them)."""
        return [d.dbt_project_dir for d in sorted(self.domains(), key=lambda d: not d.publishes) if d.dbt_project_dir]

    def fill(self, *, scale: float, history_days: int, seed: int = 1) -> int:
        """Fill the domains' source systems under ``root`` to now; returns their rows."""
        knobs = {
            "DATA_PLATFORM_SIM_SCALE": str(scale),
            "DATA_PLATFORM_SIM_HISTORY_DAYS": str(history_days),
            "DATA_PLATFORM_SIM_SEED": str(seed),
        }
        with _environment(self.env(**knobs)):
            settings = resolve_settings()
            done: set[str] = set()
            rows = 0
            for domain in load_domains(settings, self.names):
                for system in domain.source_systems:
                    if system.local_stand_in and system.local_stand_in not in done:
                        done.add(system.local_stand_in)
                        rows += sum(advance_stand_in(domain, system.local_stand_in, settings).rows_total.values())
        return rows

    def fill_rows(self, rows: int, *, history_days: int) -> tuple[int, float]:
        """Fill to about ``rows`` rows: a calibration fill at a small scale elsewhere, then the real
        one at the scale that makes ``rows``. Returns (rows made, scale)."""
        calibration = dataclasses.replace(self, root=self.root / "calibration")
        made = calibration.fill(scale=CALIBRATION_SCALE, history_days=history_days)
        scale = CALIBRATION_SCALE * rows / made if made else 1.0
        return self.fill(scale=scale, history_days=history_days), scale


@contextlib.contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    """``os.environ`` as ``env`` for the duration (a stand-in reads its knobs from the environment)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def selected(names: Sequence[str] | None) -> tuple[str, ...] | None:
    return tuple(names) if names else None
