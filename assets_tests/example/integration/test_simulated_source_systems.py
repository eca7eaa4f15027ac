"""The simulated marketplace behaves like real operational systems, deterministically."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from pathlib import Path

import orjson
import pytest

from marketplace_example.simulation import DirtSwitches, SimulationConfig, SimulationMismatch, simulate

from ..support.platforms import START, T0, T1


def fingerprint(root: Path) -> str:
    digest = hashlib.sha256()
    with sqlite3.connect(root / "shop_db.sqlite") as db:
        for table in ("merchants", "products", "customers", "orders", "order_lines", "payments"):
            for row in db.execute(f"select * from {table} order by 1, 2"):
                digest.update(repr(row).encode())
    for path in sorted([*root.glob("web_events/*.jsonl"), *root.glob("marketing_spend/*.csv")]):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def config(**kwargs) -> SimulationConfig:
    return SimulationConfig(seed=kwargs.pop("seed", 3), scale=kwargs.pop("scale", 0.3), start_date=START, **kwargs)


def test_same_seed_and_instant_give_identical_source_systems(tmp_path):
    simulate(config(), tmp_path / "a", T0)
    simulate(config(), tmp_path / "b", T0)
    simulate(config(seed=4), tmp_path / "c", T0)
    assert fingerprint(tmp_path / "a") == fingerprint(tmp_path / "b")
    assert fingerprint(tmp_path / "a") != fingerprint(tmp_path / "c")


def test_simulating_in_steps_equals_simulating_at_once(tmp_path):
    simulate(config(), tmp_path / "steps", T0)
    simulate(config(), tmp_path / "steps", T0)  # idempotent
    simulate(config(), tmp_path / "steps", T1)
    simulate(config(), tmp_path / "once", T1)
    assert fingerprint(tmp_path / "steps") == fingerprint(tmp_path / "once")


def test_a_step_past_the_lifecycle_window_regenerates_only_what_can_change_and_still_equals_one_step(tmp_path):
    """Beyond 30 days only the lifecycle's last days are regenerated, and only the last days' events
    (the earlier files are complete and never rewritten): the result is still the one-step one."""
    later, latest = T0 + dt.timedelta(days=20), T0 + dt.timedelta(days=25, hours=5)
    simulate(config(dirt=DirtSwitches.everything()), tmp_path / "steps", later)
    kept = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "steps" / "web_events").glob("*.jsonl")}
    simulate(config(dirt=DirtSwitches.everything()), tmp_path / "steps", latest)
    simulate(config(dirt=DirtSwitches.everything()), tmp_path / "once", latest)
    assert fingerprint(tmp_path / "steps") == fingerprint(tmp_path / "once")
    rewritten = {p.name for p in (tmp_path / "steps" / "web_events").glob("*.jsonl") if kept.get(p.name) != p.stat().st_mtime_ns}
    assert min(rewritten) == f"received_date={later.date().isoformat()}.jsonl", "a file completed by the last step is left alone"


def test_rows_are_updated_in_place_as_orders_move_through_their_lifecycle(tmp_path):
    simulate(config(), tmp_path, T0)
    with sqlite3.connect(tmp_path / "shop_db.sqlite") as db:
        before = dict(db.execute("select order_id, status || '@' || updated_at from orders").fetchall())
    simulate(config(), tmp_path, T1)
    with sqlite3.connect(tmp_path / "shop_db.sqlite") as db:
        after = dict(db.execute("select order_id, status || '@' || updated_at from orders").fetchall())
        statuses = {s for (s,) in db.execute("select distinct status from payments")}
    changed = [o for o in before if after[o] != before[o]]
    assert changed, "advancing time must move some orders to a later status"
    assert all(after[o].split("@")[1] > before[o].split("@")[1] for o in changed), "an update always has a newer updated_at"
    assert len(after) > len(before), "new orders are placed"
    assert {"settled", "authorized"} <= statuses


def test_timestamps_run_up_to_the_simulated_instant(tmp_path):
    simulate(config(), tmp_path, T1)
    limit = T1.strftime("%Y-%m-%dT%H:%M:%S")
    with sqlite3.connect(tmp_path / "shop_db.sqlite") as db:
        newest_order = db.execute("select max(updated_at) from orders").fetchone()[0]
    events = [orjson.loads(line) for path in (tmp_path / "web_events").glob("*.jsonl") for line in path.read_bytes().splitlines()]
    newest_event = max(e["received_at"] for e in events)
    assert newest_order <= limit and newest_event <= limit
    assert newest_event >= (T1 - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S"), "events flow until the present"
    assert newest_order >= (T1 - dt.timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M:%S")


def test_scale_knob_grows_rows_linearly(tmp_path):
    small = simulate(config(scale=0.2), tmp_path / "small", T0).rows_total
    large = simulate(config(scale=2.0), tmp_path / "large", T0).rows_total
    assert 7 < large["orders"] / small["orders"] < 13
    assert 7 < large["web_events"] / small["web_events"] < 13


def test_dirt_switches_put_realistic_dirt_in_the_sources(tmp_path):
    dirt = DirtSwitches.everything()
    simulate(config(dirt=dirt, scale=1.0), tmp_path, T0)
    events = [orjson.loads(line) for path in (tmp_path / "web_events").glob("*.jsonl") for line in path.read_bytes().splitlines()]
    malformed = 0
    for event in events:
        try:
            orjson.loads(event["payload"])
        except orjson.JSONDecodeError:
            malformed += 1
    late = [e for e in events if e["received_at"][:10] > e["event_timestamp"][:10]]
    event_ids = [e["event_id"] for e in events]
    assert malformed > 0
    assert late, "late events arrive on a later day than they happened"
    assert len(event_ids) > len(set(event_ids)), "some events are delivered twice"
    with sqlite3.connect(tmp_path / "shop_db.sqlite") as db:
        assert db.execute("select count(*) from customers where email is null").fetchone()[0] > 0
        assert db.execute("select count(*) from orders where customer_id is null").fetchone()[0] > 0
        assert db.execute("select count(*) - count(distinct merchant_id) from merchants").fetchone()[0] == 1
    newest_report = sorted((tmp_path / "marketing_spend").glob("*.csv"))[-1].read_text().splitlines()[0]
    assert "cost_micros" in newest_report and "spend_eur" not in newest_report


def test_clean_sources_have_no_dirt(tmp_path):
    simulate(config(dirt=DirtSwitches.clean()), tmp_path, T0)
    events = [orjson.loads(line) for path in (tmp_path / "web_events").glob("*.jsonl") for line in path.read_bytes().splitlines()]
    assert len({e["event_id"] for e in events}) == len(events)
    assert all(orjson.loads(e["payload"]) is not None for e in events)


def test_resimulating_with_another_seed_is_refused_with_a_clear_error(tmp_path):
    simulate(config(), tmp_path, T0)
    with pytest.raises(SimulationMismatch, match="seed"):
        simulate(config(seed=99), tmp_path, T1)


def test_moving_forward_never_rewrites_what_had_already_happened(tmp_path):
    """What a sync read at T0 must still be there, unchanged, at T1: the past is immutable."""

    def events(root):
        return {
            (e["event_id"], e["received_at"])
            for p in root.glob("web_events/*.jsonl")
            for e in map(orjson.loads, p.read_bytes().splitlines())
        }

    simulate(config(dirt=DirtSwitches.everything()), tmp_path / "t0", T0)
    simulate(config(dirt=DirtSwitches.everything()), tmp_path / "t1", T1)
    seen_at_t0 = events(tmp_path / "t0")
    cutoff = T0.strftime("%Y-%m-%dT%H:%M:%S")
    assert seen_at_t0 == {e for e in events(tmp_path / "t1") if e[1] <= cutoff}
    with sqlite3.connect(tmp_path / "t0" / "shop_db.sqlite") as db:
        created_by_t0 = set(db.execute("select order_id, created_at, items_total_eur from orders"))
    with sqlite3.connect(tmp_path / "t1" / "shop_db.sqlite") as db:
        later = set(db.execute(f"select order_id, created_at, items_total_eur from orders where created_at <= '{cutoff}'"))
    assert created_by_t0 == later
