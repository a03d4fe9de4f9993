"""Webhook subscriptions, the delivery outbox and delivery attempts.

Functions here only flush: the caller (an API request or a task's `session_scope`) commits, and
every task they enqueue is sent after that commit.
"""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from services import queue
from services.models import WebhookDelivery, WebhookDeliveryAttempt, WebhookSubscription
from services.positions.changes import PositionChange
from services.settings import Settings
from services.webhooks import repository, signing, ssrf
from services.webhooks.schemas import PING, POSITION_CHANGED, SubscriptionCreate, SubscriptionUpdate

DELIVER_TASK = "webhooks.deliver"
DISPATCH_TASK = "webhooks.dispatch_due"


class InvalidSubscription(ValueError):
    """A subscription request that cannot be accepted; the message says what to change."""


class DeliveryConflict(ValueError):
    """The delivery cannot be sent in the subscription's current state; the message says why."""


@dataclass(frozen=True)
class KnownIds:
    """Actor and topic ids a filter may name; empty sets skip the check."""

    actors: frozenset[str]
    topics: frozenset[str]


def known_ids(settings: Settings) -> KnownIds:
    from services.extraction.domain import load_domain_pack

    pack = load_domain_pack(settings.domain_pack)
    return KnownIds(frozenset(a.id for a in pack.actors), frozenset(t.id for t in pack.topics))


def now() -> datetime:
    return datetime.now(UTC)


# --- subscriptions -----------------------------------------------------------------------------


def _check_filters(ids: KnownIds, actors: Sequence[str] | None, topics: Sequence[str] | None) -> None:
    for kind, given, known in (("actor", actors, ids.actors), ("topic", topics, ids.topics)):
        unknown = sorted({value for value in given or () if value not in known}) if known else []
        if unknown:
            raise InvalidSubscription(
                f"Unknown {kind} id(s) {', '.join(map(repr, unknown))}; "
                f"use ids from the domain pack, e.g. {', '.join(sorted(known)[:5])}."
            )


def _check_url(url: str, settings: Settings) -> str:
    try:
        ssrf.check_url(url, settings.webhook_allowed_hosts)
    except ssrf.UnsafeUrl as exc:
        raise InvalidSubscription(str(exc)) from exc
    return url.strip()


def create_subscription(
    session: Session, request: SubscriptionCreate, settings: Settings, ids: KnownIds
) -> WebhookSubscription:
    url = _check_url(request.url, settings)
    _check_filters(ids, request.actors, request.topics)
    subscription = WebhookSubscription(
        id=uuid.uuid4(),
        url=url,
        description=request.description,
        actors=sorted(set(request.actors)),
        topics=sorted(set(request.topics)),
        event_types=sorted(set(request.event_types)),
        secret=signing.new_secret(),
        enabled=True,
    )
    return repository.add_subscription(session, subscription)


def get_subscription(session: Session, subscription_id: uuid.UUID) -> WebhookSubscription | None:
    return repository.get_subscription(session, subscription_id)


def list_subscriptions(
    session: Session, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> list[WebhookSubscription]:
    return repository.list_subscriptions(session, after, limit)


def update_subscription(
    session: Session,
    subscription_id: uuid.UUID,
    request: SubscriptionUpdate,
    settings: Settings,
    ids: KnownIds,
) -> WebhookSubscription | None:
    subscription = repository.get_subscription_for_update(session, subscription_id)
    if subscription is None:
        return None
    changes = request.model_dump(exclude_unset=True)
    if changes.get("url") is not None:
        subscription.url = _check_url(changes["url"], settings)
    _check_filters(ids, changes.get("actors"), changes.get("topics"))
    for field in ("actors", "topics", "event_types"):
        if changes.get(field) is not None:
            setattr(subscription, field, sorted(set(changes[field])))
    if "description" in changes:
        subscription.description = changes["description"]
    if changes.get("enabled") is True and not subscription.enabled:
        subscription.enabled = True
        subscription.disabled_reason = None
        subscription.disabled_at = None
        subscription.failing_since = None
        # What waited while it was disabled goes out now, in order.
        queue.enqueue(session, DISPATCH_TASK)
    elif changes.get("enabled") is False and subscription.enabled:
        disable(subscription, "Disabled through the API.")
    subscription.updated_at = now()
    session.flush()
    return subscription


def delete_subscription(session: Session, subscription_id: uuid.UUID) -> bool:
    return repository.delete_subscription(session, subscription_id)


def rotate_secret(
    session: Session, subscription_id: uuid.UUID, settings: Settings
) -> WebhookSubscription | None:
    """Issue a new secret; the old one keeps signing alongside it for the grace period."""
    subscription = repository.get_subscription_for_update(session, subscription_id)
    if subscription is None:
        return None
    moment = now()
    subscription.previous_secret = subscription.secret
    subscription.previous_secret_expires_at = moment + timedelta(
        seconds=settings.webhook_secret_grace_seconds
    )
    subscription.secret = signing.new_secret()
    subscription.updated_at = moment
    session.flush()
    return subscription


def signing_secrets(subscription: WebhookSubscription, at: datetime) -> list[str]:
    secrets = [subscription.secret]
    expires = subscription.previous_secret_expires_at
    if subscription.previous_secret and expires is not None and expires > at:
        secrets.append(subscription.previous_secret)
    return secrets


def disable(subscription: WebhookSubscription, reason: str) -> None:
    subscription.enabled = False
    subscription.disabled_reason = reason
    subscription.disabled_at = now()


# --- the outbox --------------------------------------------------------------------------------


def matches(subscription: WebhookSubscription, event_type: str, actor: str, topic: str) -> bool:
    return (
        (not subscription.event_types or event_type in subscription.event_types)
        and (not subscription.actors or actor in subscription.actors)
        and (not subscription.topics or topic in subscription.topics)
    )


def position_changed_payload(
    change: PositionChange, created_at: datetime, replay: bool = False
) -> dict[str, Any]:
    event = change.event
    data: dict[str, Any] = {
        "actor": change.actor,
        "topic": change.topic,
        "previous": change.previous,
        "current": change.current,
        "evidence": event.data.get("evidence"),
        "event_position": event.position,
        "occurred_at": event.occurred_at.isoformat(),
    }
    if replay:
        data["replay"] = True
    return {"type": POSITION_CHANGED, "timestamp": created_at.isoformat(), "data": data}


def _delivery_row(
    subscription_id: uuid.UUID,
    event_type: str,
    payload: dict[str, Any],
    dedupe_key: str,
    event_position: int | None = None,
    replay: bool = False,
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "subscription_id": subscription_id,
        "event_type": event_type,
        "event_position": event_position,
        "dedupe_key": dedupe_key,
        "replay": replay,
        "payload": payload,
        "status": "pending",
        "attempt_count": 0,
    }


def _queue_deliveries(
    session: Session,
    changes: Iterable[PositionChange],
    subscriptions: Sequence[WebhookSubscription],
    replay_key: str | None,
) -> list[uuid.UUID]:
    created_at = now()
    rows = []
    for change in changes:
        payload = position_changed_payload(change, created_at, replay=replay_key is not None)
        position = change.event.position
        for subscription in subscriptions:
            if matches(subscription, POSITION_CHANGED, change.actor, change.topic):
                dedupe_key = f"replay:{replay_key}:{position}" if replay_key else f"event:{position}"
                rows.append(
                    _delivery_row(
                        subscription.id,
                        POSITION_CHANGED,
                        payload,
                        dedupe_key,
                        position,
                        replay_key is not None,
                    )
                )
    created = repository.insert_deliveries(session, rows)
    for delivery_id, _subscription_id in created:
        queue.enqueue(session, DELIVER_TASK, str(delivery_id))
    return [delivery_id for delivery_id, _ in created]


def record_position_changes(session: Session, changes: Sequence[PositionChange]) -> None:
    """Write one outbox delivery per matching enabled subscription, in the projector's transaction.

    Deliveries are keyed by (subscription, event position), so a projector batch that is replayed
    after a crash writes nothing twice. Their tasks are enqueued only once the batch commits.
    """
    if not changes:
        return
    subscriptions = repository.enabled_subscriptions(session)
    if subscriptions:
        _queue_deliveries(session, changes, subscriptions, replay_key=None)


def queue_replay(
    session: Session, subscription: WebhookSubscription, changes: Iterable[PositionChange]
) -> list[uuid.UUID]:
    """New deliveries (new webhook-ids, marked as replays) for already-sent changes."""
    return _queue_deliveries(session, changes, [subscription], replay_key=uuid.uuid4().hex)


def send_ping(session: Session, subscription_id: uuid.UUID) -> WebhookDelivery | None:
    subscription = repository.get_subscription(session, subscription_id)
    if subscription is None:
        return None
    if not subscription.enabled:
        raise DeliveryConflict('The subscription is disabled; PATCH it with {"enabled": true} first.')
    created_at = now()
    payload = {
        "type": PING,
        "timestamp": created_at.isoformat(),
        "data": {"subscription_id": str(subscription.id), "message": "Test event from Stance Tracker."},
    }
    row = _delivery_row(subscription.id, PING, payload, f"ping:{uuid.uuid4().hex}")
    ((delivery_id, _),) = repository.insert_deliveries(session, [row])
    queue.enqueue(session, DELIVER_TASK, str(delivery_id))
    return repository.get_delivery(session, delivery_id)


def redeliver(session: Session, delivery_id: uuid.UUID) -> WebhookDelivery | None:
    """Send a delivery again, with the same webhook-id and a fresh round of retries."""
    delivery = repository.get_delivery(session, delivery_id)
    if delivery is None:
        return None
    subscription = repository.get_subscription(session, delivery.subscription_id)
    if subscription is None or not subscription.enabled:
        raise DeliveryConflict('The subscription is disabled; PATCH it with {"enabled": true} first.')
    delivery.status = "pending"
    delivery.attempt_count = 0
    delivery.next_attempt_at = now()
    delivery.delivered_at = None
    session.flush()
    queue.enqueue(session, DELIVER_TASK, str(delivery.id))
    return delivery


def list_deliveries(
    session: Session,
    subscription_id: uuid.UUID,
    statuses: Sequence[str] | None,
    before_sequence: int | None,
    limit: int,
) -> list[WebhookDelivery]:
    return repository.list_deliveries(session, subscription_id, statuses, before_sequence, limit)


def attempts_for(
    session: Session, delivery_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[WebhookDeliveryAttempt]]:
    return repository.attempts_for(session, delivery_ids)


def dispatch_due(session: Session, subscription_id: uuid.UUID | None = None) -> int:
    """Enqueue every due delivery that is first in its subscription's line.

    Beat runs this as the safety net: a delivery whose message Redis lost, or whose worker died,
    is picked up here. A second message for one delivery is harmless (the task locks the row).
    """
    due = repository.due_heads(session, now(), subscription_id)
    for delivery_id in due:
        queue.enqueue(session, DELIVER_TASK, str(delivery_id))
    return len(due)
