"""Webhooks end to end: the projector's outbox, a real Celery worker, a real receiver on loopback.

Position changes are made by driving the ledger directly (scripted claims), so these tests do
not depend on the NLP extractor; the worker runs the projector and the deliveries.
"""

import threading
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from services.articles import service as articles
from services.db import session_scope
from services.extraction.schemas import Claim
from services.models import WebhookDelivery, WebhookDeliveryAttempt
from services.positions import projector
from services.positions import repository as positions
from services.queue import send
from services.webhooks import signing
from tests.conftest import wait_for
from tests.factories import T0, ScriptedExtractor, article, claim
from tests.test_webhooks_receiver import HANG, RESET, Receiver, receiver, start_receiver

__all__ = ["receiver"]  # the fixture, imported so the tests here can use it


async def subscribe(client: Any, auth: dict[str, str], target: Receiver, **filters: Any) -> dict[str, Any]:
    response = await client.post("/v1/subscriptions", json={"url": target.url, **filters}, headers=auth)
    assert response.status_code == 201, response.text
    created = response.json()
    target.secrets.append(created["secret"])
    return dict(created)


def publish(*claims_per_article: Sequence[Claim], first_day: int = 0) -> None:
    """One article per argument, a day apart, each processed in its own transaction like the worker does.

    Processing enqueues the projector, which the worker runs; its outbox rows go to the worker too.
    """
    tag = uuid.uuid4().hex
    bodies = {f"webhook test {tag} {i}": list(c) for i, c in enumerate(claims_per_article)}
    with session_scope() as session:
        ids = [
            article(session, T0 + timedelta(days=first_day + i), body=body).id
            for i, body in enumerate(bodies)
        ]
    extractor = ScriptedExtractor(bodies)
    for article_id in ids:
        with session_scope() as session:
            articles.process(session, article_id, extractor)


def deliveries(subscription_id: str) -> list[WebhookDelivery]:
    with session_scope() as session:
        return list(
            session.scalars(
                select(WebhookDelivery)
                .where(WebhookDelivery.subscription_id == uuid.UUID(subscription_id))
                .order_by(WebhookDelivery.sequence)
            )
        )


def attempts(delivery_id: uuid.UUID) -> list[WebhookDeliveryAttempt]:
    with session_scope() as session:
        return list(
            session.scalars(
                select(WebhookDeliveryAttempt)
                .where(WebhookDeliveryAttempt.delivery_id == delivery_id)
                .order_by(WebhookDeliveryAttempt.id)
            )
        )


def all_settled(subscription_id: str, count: int) -> bool:
    found = deliveries(subscription_id)
    return len(found) == count and all(d.status in ("delivered", "failed") for d in found)


def projected() -> bool:
    """The projector has read every event in the log, so every outbox row it will write exists.

    Tests that assert something was *not* delivered wait on this instead of sleeping: once the
    checkpoint is at the head of the log, a row missing now is missing for good.
    """
    from services.eventstore import repository as store

    with session_scope() as session:
        return positions.checkpoint(session, projector.PROJECTION_NAME) >= store.last_position(session)


def delivery_settled(subscription_id: str, status: str, attempts: int) -> WebhookDelivery | None:
    """The subscription's one delivery once the worker has committed that outcome.

    The receiver sees a request before the worker records its answer, so a test reads the row only
    after waiting on it: the row, not the receiver, is the condition.
    """
    found = deliveries(subscription_id)
    if len(found) == 1 and (found[0].status, found[0].attempt_count) == (status, attempts):
        return found[0]
    return None


async def test_two_articles_moving_russia_on_the_ceasefire_send_one_verified_oppose_to_conditional_change(
    client, auth, worker, receiver
):
    subscription = await subscribe(client, auth, receiver)
    publish(
        [claim(stance="oppose", quote="Moscow rejects the ceasefire.")],
        [
            claim(
                stance="conditional", conditions=["Ukraine renounces NATO"], quote="Only if Kyiv drops NATO."
            )
        ],
    )
    wait_for(lambda: len(receiver.of_type("position.changed")) >= 2, message="two position changes")
    # Settled rows mean no attempt is left in flight: a duplicate would have reached the receiver.
    wait_for(lambda: all_settled(subscription["id"], 2) and projected(), message="both deliveries recorded")

    assert receiver.received and all(r.verified for r in receiver.received)
    changes = [r.payload["data"] for r in receiver.of_type("position.changed")]
    assert len(changes) == 2 and len({r.webhook_id for r in receiver.received}) == 2
    (created,) = [c for c in changes if c["previous"] is None]  # the first article creates the position
    (moved,) = [c for c in changes if c["previous"] is not None]
    assert created["current"]["stance"] == "oppose"
    assert (moved["actor"], moved["topic"]) == ("russia", "ceasefire")
    assert (moved["previous"]["stance"], moved["current"]["stance"]) == ("oppose", "conditional")
    assert moved["current"]["conditions"] == ["Ukraine renounces NATO"]
    assert moved["evidence"]["quote"] == "Only if Kyiv drops NATO."
    assert moved["event_position"] > created["event_position"]
    assert moved["occurred_at"] == (T0 + timedelta(days=1)).isoformat()
    rows = deliveries(subscription["id"])
    assert [(d.status, d.attempt_count) for d in rows] == [("delivered", 1), ("delivered", 1)]
    assert {signing.message_id(d.id) for d in rows} == {r.webhook_id for r in receiver.received}

    # A projector batch replayed (as after a crash before its commit) writes no second delivery.
    with session_scope() as session:
        positions.set_checkpoint(session, projector.PROJECTION_NAME, 0)
        assert projector.project_batch(session, 100) == 2
    assert len(deliveries(subscription["id"])) == 2 and len(receiver.received) == 2


async def test_a_receiver_failing_three_times_gets_the_fourth_attempt_with_the_same_webhook_id(
    client, auth, worker, receiver
):
    receiver.script = [500, HANG, RESET]  # the sender's timeout is 2 s in tests; the hang is 3 s
    subscription = await subscribe(client, auth, receiver)
    publish([claim(stance="support")])
    delivery = wait_for(
        lambda: delivery_settled(subscription["id"], "delivered", 4), timeout=60, message="the fourth attempt"
    )

    assert len(receiver.received) == 4 and all(r.verified for r in receiver.received)
    assert len({r.webhook_id for r in receiver.received}) == 1
    assert receiver.received[0].webhook_id == signing.message_id(delivery.id)
    tries = attempts(delivery.id)
    assert [a.status_code for a in tries] == [500, None, None, 200]
    assert tries[0].error == "HTTP 500" and "timeout" in (tries[1].error or "")
    assert tries[2].error and tries[3].error is None and tries[3].response_body == "verified"
    assert all(a.latency_ms is not None for a in tries)
    assert tries[1].latency_ms is not None and tries[1].latency_ms >= 1900  # waited out the timeout


async def test_changes_queued_while_the_receiver_is_down_arrive_in_order(client, auth, worker, receiver):
    receiver.script = [503, 500, 500]  # down for its first three requests
    subscription = await subscribe(client, auth, receiver)
    publish(
        [claim(stance="oppose", quote="No ceasefire.")],
        [claim(stance="support", quote="Yes to a ceasefire.")],
        [claim(stance="conditional", quote="A ceasefire, but only if.", conditions=["sanctions end"])],
    )
    wait_for(lambda: all_settled(subscription["id"], 3), timeout=30, message="three deliveries settled")

    rows = deliveries(subscription["id"])
    assert [d.status for d in rows] == ["delivered"] * 3
    positions_in_order = sorted(d.event_position for d in rows if d.event_position is not None)
    arrived = [r.payload["data"]["event_position"] for r in receiver.delivered()]
    assert arrived == positions_in_order
    assert [r.payload["data"]["current"]["stance"] for r in receiver.delivered()] == [
        "oppose",
        "support",
        "conditional",
    ]
    # Nothing later was even tried before the earlier one got through.
    first_success = receiver.delivered()[0].at
    later = [r for r in receiver.received if r.payload["data"]["event_position"] != positions_in_order[0]]
    assert later and all(r.at >= first_success for r in later)
    assert [d.attempt_count for d in rows] == [4, 1, 1]


async def test_a_subscription_for_ukraine_hears_nothing_about_russia(client, auth, worker, receiver):
    everything = start_receiver()
    try:
        ukraine_only = await subscribe(client, auth, receiver, actors=["ukraine"])
        await subscribe(client, auth, everything)
        publish([claim(actor="russia", stance="oppose")])
        wait_for(lambda: everything.delivered(), message="the unfiltered subscription's delivery")
        wait_for(projected, message="the projector to reach the head of the log")
        assert receiver.received == [] and deliveries(ukraine_only["id"]) == []

        publish([claim(actor="ukraine", stance="support", quote="Kyiv backs it.")], first_day=1)
        wait_for(lambda: receiver.delivered(), message="the ukraine change")
        assert [r.payload["data"]["actor"] for r in receiver.delivered()] == ["ukraine"]
        wait_for(lambda: len(everything.delivered()) == 2, message="both changes to the unfiltered one")
    finally:
        everything.server.shutdown()
        everything.server.server_close()


async def test_deliveries_pending_when_the_worker_dies_are_all_sent_after_a_restart_none_as_a_new_id(
    client, auth, worker, receiver
):
    gate = receiver.gate = threading.Event()  # no request is answered until the worker is dead
    subscription = await subscribe(client, auth, receiver)
    try:
        publish(
            [claim(stance="oppose", quote="No.")],
            [claim(stance="support", quote="Yes.")],
            [claim(stance="conditional", quote="If.", conditions=["talks start"])],
        )
        wait_for(lambda: receiver.received, message="the first request in flight")
        wait_for(lambda: len(deliveries(subscription["id"])) == 3, message="three outbox rows")
        worker.kill()  # SIGKILL mid-request: its transaction rolls back, its message stays unacked
        rows = deliveries(subscription["id"])
        # Pending, or retrying if a slow machine let the 2 s timeout pass first: never delivered.
        assert len(rows) == 3 and all(d.status in ("pending", "retrying") for d in rows)
    finally:
        receiver.gate = None
        gate.set()
        worker.start()
    # Beat's safety net finds what is due; the unacked message would only return after its timeout.
    send("webhooks.dispatch_due")
    wait_for(lambda: all_settled(subscription["id"], 3), timeout=60, message="every delivery settled")

    rows = deliveries(subscription["id"])
    assert [d.status for d in rows] == ["delivered"] * 3
    ids_by_position = {d.event_position: signing.message_id(d.id) for d in rows}
    assert {r.webhook_id for r in receiver.received} == set(ids_by_position.values())
    for r in receiver.received:  # an event may be received twice, but only ever under its one id
        assert ids_by_position[r.payload["data"]["event_position"]] == r.webhook_id
    assert all(r.verified for r in receiver.received)
    arrived = [r.payload["data"]["event_position"] for r in receiver.delivered()]
    assert sorted(set(arrived)) == sorted(ids_by_position) and arrived == sorted(arrived)
