"""Delivery rules tested in-process against a real receiver: signing, SSRF at delivery time,
Retry-After, redirects, disabling a failing endpoint, and the idempotent outbox.

Settings are passed explicitly, so each test can use an allow-list or schedule of its own.
Rows are written without enqueueing, so a running worker does not race the attempt made here.
"""

import base64
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from standardwebhooks import Webhook

from services.db import session_scope
from services.eventstore.schemas import RecordedEvent
from services.models import WebhookDelivery, WebhookDeliveryAttempt, WebhookSubscription
from services.positions.changes import PositionChange
from services.settings import Settings
from services.webhooks import delivery, metrics, repository, service, signing, ssrf
from services.webhooks.schemas import SubscriptionCreate
from tests.test_webhooks_receiver import Receiver, receiver

__all__ = ["receiver"]  # the fixture, imported so the tests here can use it

LOOPBACK = Settings().model_copy(
    update={"webhook_allowed_hosts": ["127.0.0.1"], "webhook_retry_schedule": [60.0, 60.0]}
)
NO_IDS = service.KnownIds(frozenset(), frozenset())


def make_subscription(url: str, settings: Settings = LOOPBACK, **filters: Any) -> WebhookSubscription:
    with session_scope() as session:
        return service.create_subscription(session, SubscriptionCreate(url=url, **filters), settings, NO_IDS)


def make_delivery(subscription: WebhookSubscription, position: int | None = 1) -> uuid.UUID:
    payload = {"type": "position.changed", "timestamp": "2026-01-01T00:00:00+00:00", "data": {"n": position}}
    with session_scope() as session:
        ((delivery_id, _),) = repository.insert_deliveries(
            session,
            [
                {
                    "id": uuid.uuid4(),
                    "subscription_id": subscription.id,
                    "event_type": "position.changed",
                    "event_position": position,
                    "dedupe_key": f"event:{position}:{uuid.uuid4().hex}",
                    "payload": payload,
                    "status": "pending",
                    "attempt_count": 0,
                }
            ],
        )
    return delivery_id


def attempt(delivery_id: uuid.UUID, settings: Settings = LOOPBACK) -> str:
    with session_scope() as session:
        return delivery.attempt(session, delivery_id, settings)


def load(delivery_id: uuid.UUID) -> tuple[WebhookDelivery, WebhookSubscription, list[WebhookDeliveryAttempt]]:
    with session_scope() as session:
        row = session.get(WebhookDelivery, delivery_id)
        assert row is not None
        subscription = session.get(WebhookSubscription, row.subscription_id)
        assert subscription is not None
        tries = list(
            session.scalars(
                select(WebhookDeliveryAttempt)
                .where(WebhookDeliveryAttempt.delivery_id == delivery_id)
                .order_by(WebhookDeliveryAttempt.id)
            )
        )
        return row, subscription, tries


def test_our_signature_is_the_one_standardwebhooks_verifies():
    secret = signing.new_secret()
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) >= 24
    body = b'{"type":"ping","data":{"caf\\u00e9":1}}'
    timestamp = int(datetime.now(UTC).timestamp())
    headers = signing.signed_headers([secret], "msg_abc", timestamp, body)
    assert Webhook(secret).verify(body, headers) == {"type": "ping", "data": {"café": 1}}
    assert headers["webhook-signature"] == Webhook(secret).sign(
        "msg_abc", datetime.fromtimestamp(timestamp, UTC), body.decode()
    )
    with pytest.raises(Exception, match="signature"):
        Webhook(secret).verify(body + b" ", headers)
    other = signing.new_secret()
    both = signing.signed_headers([secret, other], "msg_abc", timestamp, body)
    assert Webhook(other).verify(body, both) and Webhook(secret).verify(body, both)


def test_the_ssrf_guard_knows_internal_addresses_and_the_allow_list():
    for url in ("http://169.254.169.254/", "http://10.0.0.1/", "http://localhost/", "http://127.1/"):
        with pytest.raises(ssrf.UnsafeUrl, match="STANCE_WEBHOOK_ALLOWED_HOSTS"):
            ssrf.check_url(url, [])
    ssrf.check_url("https://hooks.example.com/x", [])  # a public name is not resolved at creation
    ssrf.check_url("http://10.1.2.3/", ["10.0.0.0/8"])
    with pytest.raises(ssrf.UnsafeUrl, match=r"10\.1\.2\.3, a private address"):
        ssrf.check_url("http://10.1.2.3/", ["192.168.0.0/16"])
    assert ssrf.resolve("http://localhost:81/", ["127.0.0.0/8", "::1/128"]).address.is_loopback
    target = ssrf.resolve("http://localhost:81/x", ["localhost"])
    assert (target.hostname, target.port) == ("localhost", 81)
    with pytest.raises(ssrf.UnsafeUrl, match="javascript"):
        ssrf.split_url("javascript:alert(1)")


def test_a_hostname_resolving_to_a_loopback_address_is_refused_at_delivery(receiver: Receiver):
    url = f"http://localhost:{receiver.port()}/hooks"  # `localhost` resolves locally, no network needed
    subscription = make_subscription(
        url, settings=Settings().model_copy(update={"webhook_allowed_hosts": ["localhost"]})
    )
    delivery_id = make_delivery(subscription)
    strict = LOOPBACK.model_copy(update={"webhook_allowed_hosts": ["127.0.0.2"]})

    assert attempt(delivery_id, strict) == "retrying"
    row, _, tries = load(delivery_id)
    (refused,) = tries
    assert refused.status_code is None and "resolves to" in (refused.error or "")
    assert "loopback" in (refused.error or "") and receiver.received == []  # never connected
    assert row.status == "retrying" and row.attempt_count == 1


def test_429_and_503_honour_retry_after(receiver: Receiver):
    for status in (429, 503):
        receiver.script = [status]
        receiver.extra_headers = {"Retry-After": "7"}
        subscription = make_subscription(receiver.url)
        receiver.secrets.append(subscription.secret)
        delivery_id = make_delivery(subscription)
        before = datetime.now(UTC)
        assert attempt(delivery_id) == "retrying"
        row, _, (tried,) = load(delivery_id)
        assert tried.status_code == status
        wait = (row.next_attempt_at - before).total_seconds()
        assert 6.5 <= wait <= 8, wait  # the header's 7 s, not the schedule's 60 s


def test_a_redirect_is_a_failed_attempt_and_is_not_followed(receiver: Receiver):
    receiver.script = [302]
    receiver.extra_headers = {"Location": "http://169.254.169.254/latest/meta-data/"}
    subscription = make_subscription(receiver.url)
    receiver.secrets.append(subscription.secret)
    delivery_id = make_delivery(subscription)
    assert attempt(delivery_id) == "retrying"
    _, _, (tried,) = load(delivery_id)
    assert tried.status_code == 302 and "not followed" in (tried.error or "")
    assert len(receiver.received) == 1


def test_an_endpoint_failing_longer_than_the_limit_is_disabled_with_a_reason(receiver: Receiver):
    receiver.script = [500, 500]
    subscription = make_subscription(receiver.url)
    receiver.secrets.append(subscription.secret)
    patient = LOOPBACK.model_copy(update={"webhook_disable_after_seconds": 3600.0})
    first = make_delivery(subscription, position=1)
    assert attempt(first, patient) == "retrying"
    assert load(first)[1].enabled is True and load(first)[1].failing_since is not None
    with session_scope() as session:  # the endpoint has been failing for two hours now
        row = session.get(WebhookSubscription, subscription.id)
        assert row is not None
        row.failing_since = datetime.now(UTC) - timedelta(hours=2)
    second = make_delivery(subscription, position=2)
    with session_scope() as session:
        session.get(WebhookDelivery, first).status = "failed"  # type: ignore[union-attr]
    assert attempt(second, patient) == "retrying"
    _, state, _ = load(second)
    assert state.enabled is False and "Every delivery failed since" in (state.disabled_reason or "")
    with session_scope() as session:  # due again: still nothing is sent while disabled
        session.get(WebhookDelivery, second).next_attempt_at = datetime.now(UTC)  # type: ignore[union-attr]
    assert attempt(second, patient) == "disabled"
    assert len(receiver.received) == 2


def test_the_schedule_runs_out_into_failed_and_counts_the_outcome(receiver: Receiver):
    receiver.script = [500]
    subscription = make_subscription(receiver.url)
    receiver.secrets.append(subscription.secret)
    delivery_id = make_delivery(subscription)
    failed_before = metrics.DELIVERIES.labels("failed")._value.get()
    assert attempt(delivery_id, LOOPBACK.model_copy(update={"webhook_retry_schedule": []})) == "failed"
    assert load(delivery_id)[0].status == "failed"
    assert metrics.DELIVERIES.labels("failed")._value.get() == failed_before + 1
    assert attempt(delivery_id) == "skipped"  # a settled delivery is never sent again by a stray message


def test_a_later_delivery_waits_for_an_earlier_one_of_the_same_subscription(receiver: Receiver):
    subscription = make_subscription(receiver.url)
    receiver.secrets.append(subscription.secret)
    earlier = make_delivery(subscription, position=5)
    later = make_delivery(subscription, position=9)
    assert attempt(later) == "waiting" and receiver.received == []
    with session_scope() as session:
        assert repository.due_heads(session, datetime.now(UTC), subscription.id) == [earlier]
    assert attempt(earlier) == "delivered"
    with session_scope() as session:
        assert repository.due_heads(session, datetime.now(UTC), subscription.id) == [later]
    assert attempt(later) == "delivered"
    assert [r.payload["data"]["n"] for r in receiver.delivered()] == [5, 9]


def _change(position: int, actor: str = "russia") -> PositionChange:
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    event = RecordedEvent(
        position=position,
        stream_id=f"actor:{actor}",
        stream_version=1,
        type="StanceChanged",
        data={"topic": "ceasefire", "stance": "support", "evidence": {"quote": "Yes."}},
        metadata={},
        occurred_at=moment,
        recorded_at=moment,
    )
    current = {
        "stance": "support",
        "conditions": [],
        "summary": "",
        "confidence": 0.9,
        "since": moment.isoformat(),
    }
    return PositionChange(actor, "ceasefire", None, current, event)


def test_the_outbox_writes_one_row_per_matching_enabled_subscription_and_never_twice(clean_db):
    # Port 9 refuses connections, so a worker picking these rows up fails fast and harmlessly.
    everything = make_subscription("http://127.0.0.1:9/a")
    ukraine = make_subscription("http://127.0.0.1:9/b", actors=["ukraine"])
    switched_off = make_subscription("http://127.0.0.1:9/c")
    with session_scope() as session:
        row = session.get(WebhookSubscription, switched_off.id)
        assert row is not None
        service.disable(row, "test")
    for _ in range(2):  # the same batch projected twice, as after a crash
        with session_scope() as session:
            service.record_position_changes(session, [_change(11), _change(12, actor="ukraine")])
    with session_scope() as session:
        rows = session.execute(select(WebhookDelivery.subscription_id, WebhookDelivery.event_position)).all()
    assert sorted((s, p) for s, p in rows) == sorted(
        [(everything.id, 11), (everything.id, 12), (ukraine.id, 12)]
    )


def test_a_hostname_is_connected_to_at_its_checked_address_with_the_host_header_kept(receiver: Receiver):
    named = LOOPBACK.model_copy(update={"webhook_allowed_hosts": ["localhost"]})
    subscription = make_subscription(f"http://localhost:{receiver.port()}/hooks", settings=named)
    receiver.secrets.append(subscription.secret)
    delivery_id = make_delivery(subscription)
    assert attempt(delivery_id, named) == "delivered"
    (request,) = receiver.received
    assert request.headers["host"] == f"localhost:{receiver.port()}" and request.verified
    assert request.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    "url",
    [
        "http://a.example.com/\x00",
        "http://%31%32%37.0.0.1/",
        "http://a b/",
        "http://127.0.0.1./",
        "http://0x7f000001/",
    ],
)
def test_disguised_and_malformed_urls_are_refused(url: str):
    with pytest.raises(ssrf.UnsafeUrl):
        ssrf.check_url(url, [])
