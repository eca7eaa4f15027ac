"""Knobs of the simulated operational systems: seed, scale, history and dirt switches."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math


@dataclasses.dataclass(frozen=True)
class DirtSwitches:
    """Imperfections real source systems have. Rates are per affected record.

    The defaults are the dirt the pipeline is built to absorb (late and duplicated events);
    the rest are off and exist to prove that checks and contracts catch them.
    """

    late_event_rate: float = 0.03
    """Share of web events that arrive hours to days after they happened."""
    duplicate_delivery_rate: float = 0.01
    """Share of web events delivered twice (same event_id, later received_at)."""
    malformed_json_rate: float = 0.0
    """Share of web events whose JSON payload is truncated."""
    null_violation_rate: float = 0.0
    """Share of customers without email and orders without customer_id (both contract not-null)."""
    changed_column: bool = False
    """The ad platform's last three daily reports rename spend_eur to cost_micros (integer micros)."""
    duplicate_primary_key: bool = False
    """The ad platform report repeats rows for one key with different figures in the same file."""

    @classmethod
    def clean(cls) -> DirtSwitches:
        return cls(late_event_rate=0.0, duplicate_delivery_rate=0.0)

    @classmethod
    def everything(cls) -> DirtSwitches:
        return cls(
            late_event_rate=0.05,
            duplicate_delivery_rate=0.02,
            malformed_json_rate=0.01,
            null_violation_rate=0.01,
            changed_column=True,
            duplicate_primary_key=True,
        )


@dataclasses.dataclass(frozen=True)
class SimulationConfig:
    """What to simulate. Same config and same ``as_of`` give byte-identical source systems."""

    seed: int = 42
    scale: float = 1.0
    """1.0 is about 40 orders a day (~20k rows over 30 days); rows grow linearly with scale."""
    start_date: dt.date | None = None
    """First day of history. ``None``: ``history_days`` before the first simulation."""
    history_days: int = 30
    dirt: DirtSwitches = dataclasses.field(default_factory=DirtSwitches)

    def __post_init__(self) -> None:
        if not math.isfinite(self.scale) or self.scale <= 0:
            raise ValueError(f"scale must be positive, got {self.scale}")
        if self.history_days < 1:
            raise ValueError(f"history_days must be at least 1, got {self.history_days}")
        for field in dataclasses.fields(self.dirt):
            value = getattr(self.dirt, field.name)
            if isinstance(value, float) and not 0.0 <= value <= 1.0:
                raise ValueError(f"dirt.{field.name} must be between 0 and 1, got {value}")

    @property
    def orders_per_day(self) -> float:
        return 40.0 * self.scale
