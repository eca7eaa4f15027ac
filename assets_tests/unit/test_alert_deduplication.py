"""One alert per failed check: the same failure seen again (another tick, a retried step, a
re-executed run) is not alerted twice; a new partition or a new run is."""

from data_platform.alerting.sensors import alert_identity
from data_platform.alerting.sink import remember


def test_the_first_failure_is_alerted():
    assert remember([], alert_identity("raw_shop/orders", "data_contract", None, "run-1"))


def test_the_same_failure_seen_again_is_not():
    sent: list[str] = []
    identity = alert_identity("raw_shop/orders", "data_contract", None, "run-1")
    assert remember(sent, identity)
    assert not remember(sent, identity)
    assert sent == [identity]


def test_another_partition_or_a_new_run_is_a_new_alert():
    sent: list[str] = []
    remember(sent, alert_identity("marts/mart_daily_gmv", "freshness_check", "2026-11-20", "run-1"))
    assert remember(sent, alert_identity("marts/mart_daily_gmv", "freshness_check", "2026-11-21", "run-1"))
    assert remember(sent, alert_identity("marts/mart_daily_gmv", "freshness_check", "2026-11-20", "run-2"))


def test_another_check_on_the_same_asset_is_a_new_alert():
    sent: list[str] = []
    remember(sent, alert_identity("raw_web/web_events", "row_volume", None, "run-1"))
    assert remember(sent, alert_identity("raw_web/web_events", "data_freshness", None, "run-1"))


def test_the_memory_is_bounded_to_the_newest_alerts():
    sent: list[str] = []
    for n in range(7):
        remember(sent, f"alert-{n}", limit=5)
    assert sent == [f"alert-{n}" for n in range(2, 7)]
    assert remember(sent, "alert-0", limit=5), "forgotten once out of the window"
