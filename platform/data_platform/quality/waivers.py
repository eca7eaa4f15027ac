"""Waivers: an owner's recorded decision to let a failing blocking check stop blocking, for a while.

A blocking check on a stream (a duplicated key, a broken contract) stays failed until the
source fixes the data: a sync that brings nothing new does not lift it. When the owner decides
the descendants may be built meanwhile, they record a waiver in the domain's ``waivers.yaml``::

    waivers:
      - check: raw_shop/orders:primary_key_unique    # <asset key>:<check name>
        by: ana.lopez@shop.example                   # who decided
        at: 2026-10-20T12:00:00Z                     # when
        why: Order 123 was entered twice by the shop's support tool; the fix ships on Monday.
        until: 2026-10-27T00:00:00Z                  # when the waiver ends (at most 90 days)

While a waiver is in force, the check still fails and says so, at WARN instead of ERROR (so it
blocks nothing), with the waiver's who, when, why and until in the evaluation's metadata: the
check's page in the UI shows them. After ``until`` the check blocks again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path

import dagster as dg
import yaml

from data_platform.yaml_text import load_yaml

WAIVERS_FILE = "waivers.yaml"
LONGEST = dt.timedelta(days=90)


class WaiverError(ValueError):
    """A waiver that does not say who, when, why and until when; the message names the file and the entry."""


@dataclasses.dataclass(frozen=True)
class Waiver:
    check: dg.AssetCheckKey
    by: str
    at: dt.datetime
    why: str
    until: dt.datetime

    def in_force(self, now: dt.datetime) -> bool:
        return self.at <= now < self.until

    @property
    def metadata(self) -> dict[str, str]:
        return {
            "waived_by": self.by,
            "waived_at": self.at.isoformat(),
            "waived_because": self.why,
            "waived_until": self.until.isoformat(),
        }


def load_waivers(folder: Path) -> tuple[Waiver, ...]:
    path = folder / WAIVERS_FILE
    if not path.exists():
        return ()
    try:
        document = load_yaml(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise WaiverError(f"{path}: not valid YAML: {error}") from None
    entries = document.get("waivers") if isinstance(document, Mapping) else None
    if not isinstance(entries, list):
        raise WaiverError(f"{path}: expected a top-level 'waivers:' list")
    return tuple(_waiver(path, n, entry) for n, entry in enumerate(entries, start=1))


def _waiver(path: Path, n: int, entry) -> Waiver:
    where = f"{path}: waiver {n}"
    if not isinstance(entry, Mapping):
        raise WaiverError(f"{where}: expected a mapping with check, by, at, why, until")
    missing = [k for k in ("check", "by", "at", "why", "until") if not str(entry.get(k) or "").strip()]
    if missing:
        raise WaiverError(f"{where}: missing {', '.join(missing)} (a waiver says which check, who, when, why and until when)")
    asset, _, name = str(entry["check"]).rpartition(":")
    if not asset or not name:
        raise WaiverError(f"{where}: check {entry['check']!r} is not '<asset key>:<check name>'")
    at, until = _instant(where, "at", entry["at"]), _instant(where, "until", entry["until"])
    if not at < until <= at + LONGEST:
        raise WaiverError(f"{where}: 'until' must be after 'at' and at most {LONGEST.days} days later")
    return Waiver(dg.AssetCheckKey(dg.AssetKey.from_user_string(asset), name), str(entry["by"]), at, str(entry["why"]).strip(), until)


def _instant(where: str, field: str, value) -> dt.datetime:
    if isinstance(value, dt.datetime):
        instant = value
    elif isinstance(value, dt.date):
        instant = dt.datetime.combine(value, dt.time(), dt.UTC)
    else:
        try:
            instant = dt.datetime.fromisoformat(str(value))
        except ValueError:
            raise WaiverError(f"{where}: '{field}' {value!r} is not an ISO 8601 instant") from None
    if instant.tzinfo is None:
        raise WaiverError(f"{where}: '{field}' {value!r} has no time zone (write Z or +01:00)")
    return instant


def waiver_in_force(waivers: Iterable[Waiver], check: dg.AssetCheckKey, now: dt.datetime | None = None) -> Waiver | None:
    now = now or dt.datetime.now(dt.UTC)
    return next((w for w in waivers if w.check == check and w.in_force(now)), None)


def apply_waiver(result: dg.AssetCheckResult, waiver: Waiver | None) -> dg.AssetCheckResult:
    """A failed ERROR result under a waiver in force: still failed, at WARN, saying who waived it."""
    if waiver is None or result.passed or result.severity != dg.AssetCheckSeverity.ERROR:
        return result
    return result._replace(
        severity=dg.AssetCheckSeverity.WARN,
        description=f"WAIVED until {waiver.until.isoformat()} by {waiver.by} ({waiver.why}): {result.description or ''}",
        metadata={**(result.metadata or {}), **waiver.metadata},
    )
