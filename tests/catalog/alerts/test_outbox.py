"""Delivery through the outbox on both databases: retried with backoff, at least once, and a
destination that is down delays nobody else."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from catalog.alerts.outbox import backoff
from catalog.store import alerts as sql
from catalog.store import tables as t
from catalog.store.store import Store
from tests.catalog.alerts.decided import Decided, settings
from tests.catalog.alerts.receiver import receiver
from tests.peers.processes import free_port, wait_until


def rows(store: Store) -> list[t.AlertOutbox]:
    with store.session() as s:
        return list(s.scalars(select(t.AlertOutbox).order_by(t.AlertOutbox.id)))  # type: ignore[arg-type]


def counter(name: str, destination: str) -> float:
    return REGISTRY.get_sample_value(name, {"destination": destination}) or 0.0


def test_backoff_doubles_up_to_the_longest_wait() -> None:
    first, longest = timedelta(seconds=5), timedelta(minutes=1)
    waits = [backoff(n, first, longest).total_seconds() for n in range(1, 7)]
    assert waits == [5, 10, 20, 40, 60, 60]


def test_a_500_is_retried_with_backoff_then_delivered_once(store: Store) -> None:
    sent0 = counter("tempox_alerts_sent_total", "flaky")
    failed0 = counter("tempox_alerts_failed_total", "flaky")
    with receiver(statuses=[500, 503]) as inbox:
        decided = Decided(store, settings([{"name": "flaky", "kind": "webhook", "url": inbox.url}]))
        decided.fail()
        assert decided.dispatcher.deliver_all() == 1  # 500
        (row,) = rows(store)
        assert (row.state, row.attempts) == ("pending", 1)
        assert (
            row.last_error == f'destination \'flaky\' ({inbox.url}): HTTP 500: {{"error":"down"}}'
        )
        assert row.next_attempt_at == decided.clock.now + timedelta(seconds=5)
        assert decided.dispatcher.deliver_all() == 0  # not due yet
        decided.clock.advance(seconds=5)
        assert decided.dispatcher.deliver_all() == 1  # 503
        (row,) = rows(store)
        assert row.next_attempt_at == decided.clock.now + timedelta(seconds=10)
        decided.clock.advance(seconds=10)
        assert decided.dispatcher.deliver_all() == 1  # delivered
        decided.clock.advance(minutes=10)
        assert decided.dispatcher.deliver_all() == 0  # and never again
        (row,) = rows(store)
        assert (row.state, row.attempts, row.last_error) == ("sent", 3, None)
        assert row.sent_at is not None
        deliveries = {r.headers["X-Tempox-Delivery"] for r in inbox.requests}
        assert len(inbox.requests) == 3
        assert len(deliveries) == 1
    assert counter("tempox_alerts_sent_total", "flaky") == sent0 + 1
    assert counter("tempox_alerts_failed_total", "flaky") == failed0 + 2


def test_a_refusal_is_dropped_and_an_old_notification_given_up(store: Store) -> None:
    with receiver(statuses=[400, 500]) as inbox:
        alerts = settings([{"name": "a", "kind": "webhook", "url": inbox.url}], give_up_after="1m")
        decided = Decided(store, alerts)
        decided.fail()
        decided.dispatcher.deliver_all()  # 400: retrying cannot help
        decided.recover()
        decided.clock.advance(minutes=2)
        decided.dispatcher.deliver_all()  # 500, and a minute old: given up
    assert [(r.action, r.state) for r in rows(store)] == [
        ("trigger", "dropped"),
        ("resolve", "dropped"),
    ]


def test_a_claim_whose_holder_died_is_claimed_again(store: Store) -> None:
    with receiver() as inbox:
        decided = Decided(store, settings([{"name": "a", "kind": "webhook", "url": inbox.url}]))
        decided.fail()
        with store.transaction() as conn:
            # Another dispatcher claimed it, then died before sending.
            claimed = sql.claim_due(conn, "a", "dead", decided.clock.now, timedelta(minutes=1), 10)
        assert len(claimed) == 1
        assert decided.dispatcher.deliver_all() == 0  # still held
        decided.clock.advance(minutes=2)
        assert decided.dispatcher.deliver_all() == 1
        assert len(inbox.requests) == 1
    assert rows(store)[0].state == "sent"


def test_a_destination_that_is_down_delays_nobody_else(store: Store) -> None:
    dead = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there
    with receiver() as inbox:
        alerts = settings(
            [
                {"name": "down", "kind": "webhook", "url": dead, "timeout": "2s"},
                {"name": "up", "kind": "webhook", "url": inbox.url},
            ]
        )
        decided = Decided(store, alerts)
        decided.dispatcher.poll = timedelta(seconds=0.2)
        decided.dispatcher.start()
        try:
            decided.fail()
            decided.dispatcher.wake()
            wait_until(
                "the reachable destination is notified", lambda: len(inbox.requests) == 1, 30
            )
            wait_until(
                "the unreachable one's attempt is recorded",
                lambda: any(r.attempts for r in rows(store) if r.destination == "down"),
                30,
            )
        finally:
            decided.dispatcher.stop()
    states = {r.destination: (r.state, r.attempts) for r in rows(store)}
    assert states == {"up": ("sent", 1), "down": ("pending", 1)}
    assert "ConnectError" in next(
        r.last_error or "" for r in rows(store) if r.destination == "down"
    )


def test_a_secret_url_never_shows_in_errors(
    store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    secret_path = "/services/T0SECRET/B0SECRET/xoxbSECRETTOKEN"
    monkeypatch.setenv("SLACK_URL", f"http://127.0.0.1:{free_port()}{secret_path}")
    alerts = settings([{"name": "chat", "kind": "slack", "url_env": "SLACK_URL", "timeout": "2s"}])
    decided = Decided(store, alerts)
    decided.fail()
    with caplog.at_level("WARNING"):
        decided.dispatcher.deliver_all()
    decided.dispatcher.stop()
    (row,) = rows(store)
    assert row.last_error is not None
    assert "ConnectError" in row.last_error
    for text in (row.last_error, caplog.text):
        assert "SECRET" not in text


def test_a_missing_secret_is_named_and_retried(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PD_ROUTING_KEY", raising=False)
    alerts = settings([{"name": "pd", "kind": "pagerduty", "routing_key_env": "PD_ROUTING_KEY"}])
    decided = Decided(store, alerts)
    decided.fail()
    decided.dispatcher.deliver_all()
    decided.dispatcher.stop()
    (row,) = rows(store)
    assert (row.state, row.attempts) == ("pending", 1)
    assert row.last_error == (
        "destination 'pd': environment variable PD_ROUTING_KEY is not set "
        "(its routing_key_env names it as the place of the secret)"
    )
