"""Every query the webhook code makes."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Text, delete, func, select, tuple_, type_coerce, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, aliased

from services import secrets
from services.models import WebhookDelivery, WebhookDeliveryAttempt, WebhookSubscription

OUTSTANDING = ("pending", "retrying")
INSERT_CHUNK = 1000


def add_subscription(session: Session, subscription: WebhookSubscription) -> WebhookSubscription:
    session.add(subscription)
    session.flush()
    session.refresh(subscription)
    return subscription


def get_subscription(session: Session, subscription_id: uuid.UUID) -> WebhookSubscription | None:
    return session.get(WebhookSubscription, subscription_id)


def get_subscription_for_update(session: Session, subscription_id: uuid.UUID) -> WebhookSubscription | None:
    """The subscription, locked against other writers of it for this transaction.

    `FOR NO KEY UPDATE` rather than `FOR UPDATE`: the projector inserting deliveries (which only
    takes a key-share lock through the foreign key) must not wait on a webhook request in flight.
    """
    return session.scalars(
        select(WebhookSubscription)
        .where(WebhookSubscription.id == subscription_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).first()


def list_subscriptions(
    session: Session, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> list[WebhookSubscription]:
    query = select(WebhookSubscription)
    if after is not None:
        query = query.where(tuple_(WebhookSubscription.created_at, WebhookSubscription.id) > after)
    query = query.order_by(WebhookSubscription.created_at, WebhookSubscription.id).limit(limit)
    return list(session.scalars(query))


def enabled_subscriptions(session: Session) -> list[WebhookSubscription]:
    return list(
        session.scalars(
            select(WebhookSubscription)
            .where(WebhookSubscription.enabled)
            .order_by(WebhookSubscription.created_at)
        )
    )


def delete_subscription(session: Session, subscription_id: uuid.UUID) -> bool:
    result = session.execute(delete(WebhookSubscription).where(WebhookSubscription.id == subscription_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def insert_deliveries(session: Session, rows: Sequence[dict[str, Any]]) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """Insert deliveries, skipping any whose (subscription, dedupe key) exists.

    Returns (id, subscription id) of the rows actually inserted.
    """
    created: list[tuple[uuid.UUID, uuid.UUID]] = []
    for start in range(0, len(rows), INSERT_CHUNK):  # a replay can be large; keep statements bounded
        statement = (
            insert(WebhookDelivery)
            .values(list(rows[start : start + INSERT_CHUNK]))
            .on_conflict_do_nothing(constraint="uq_webhook_deliveries_subscription_dedupe")
            .returning(WebhookDelivery.id, WebhookDelivery.subscription_id)
        )
        created.extend((row.id, row.subscription_id) for row in session.execute(statement))
    return created


def get_delivery(session: Session, delivery_id: uuid.UUID) -> WebhookDelivery | None:
    return session.get(WebhookDelivery, delivery_id)


def lock_delivery(session: Session, delivery_id: uuid.UUID) -> WebhookDelivery | None:
    """The delivery, row-locked for this transaction; None if missing or another worker holds it."""
    return session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).first()


def _earlier_outstanding(delivery_alias: Any) -> Any:
    earlier = aliased(WebhookDelivery)
    return (
        select(earlier.id)
        .where(
            earlier.subscription_id == delivery_alias.subscription_id,
            earlier.status.in_(OUTSTANDING),
            earlier.event_position.is_not(None),
            tuple_(earlier.event_position, earlier.sequence)
            < tuple_(delivery_alias.event_position, delivery_alias.sequence),
        )
        .exists()
    )


def has_earlier_outstanding(session: Session, delivery: WebhookDelivery) -> bool:
    """Whether an earlier event's delivery to the same subscription has not been settled yet."""
    if delivery.event_position is None:  # a ping is outside the event order
        return False
    earlier = (
        select(WebhookDelivery.id)
        .where(
            WebhookDelivery.subscription_id == delivery.subscription_id,
            WebhookDelivery.status.in_(OUTSTANDING),
            WebhookDelivery.event_position.is_not(None),
            tuple_(WebhookDelivery.event_position, WebhookDelivery.sequence)
            < tuple_(delivery.event_position, delivery.sequence),
        )
        .limit(1)
    )
    return session.scalar(earlier) is not None


def due_heads(
    session: Session, now: datetime, subscription_id: uuid.UUID | None = None, limit: int = 500
) -> list[uuid.UUID]:
    """Outstanding deliveries of enabled subscriptions that are due and first in their subscription's line."""
    query = (
        select(WebhookDelivery.id)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .where(
            WebhookSubscription.enabled,
            WebhookDelivery.status.in_(OUTSTANDING),
            WebhookDelivery.next_attempt_at <= now,
            WebhookDelivery.event_position.is_(None) | ~_earlier_outstanding(WebhookDelivery),
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.sequence)
        .limit(limit)
    )
    if subscription_id is not None:
        query = query.where(WebhookDelivery.subscription_id == subscription_id)
    return list(session.scalars(query))


def add_attempt(session: Session, attempt: WebhookDeliveryAttempt) -> None:
    session.add(attempt)


def list_deliveries(
    session: Session,
    subscription_id: uuid.UUID,
    statuses: Sequence[str] | None,
    before_sequence: int | None,
    limit: int,
) -> list[WebhookDelivery]:
    """A subscription's deliveries, newest first."""
    query = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
    if statuses:
        query = query.where(WebhookDelivery.status.in_(statuses))
    if before_sequence is not None:
        query = query.where(WebhookDelivery.sequence < before_sequence)
    return list(session.scalars(query.order_by(WebhookDelivery.sequence.desc()).limit(limit)))


def attempts_for(
    session: Session, delivery_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[WebhookDeliveryAttempt]]:
    found: dict[uuid.UUID, list[WebhookDeliveryAttempt]] = {delivery_id: [] for delivery_id in delivery_ids}
    if not delivery_ids:
        return found
    rows = session.scalars(
        select(WebhookDeliveryAttempt)
        .where(WebhookDeliveryAttempt.delivery_id.in_(delivery_ids))
        .order_by(WebhookDeliveryAttempt.id)
    )
    for attempt in rows:
        found[attempt.delivery_id].append(attempt)
    return found


def outstanding_counts(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(WebhookDelivery.status, func.count())
        .where(WebhookDelivery.status.in_(OUTSTANDING))
        .group_by(WebhookDelivery.status)
    )
    counts = dict.fromkeys(OUTSTANDING, 0)
    counts.update({status: count for status, count in rows})
    return counts


def reencrypt_secrets(session: Session) -> int:
    """Re-encrypt every stored signing secret with the first of the configured keys.

    Reads and writes the stored tokens as they are (type_coerce to plain text skips the column's
    encryption), so a secret is decrypted with whichever key it was stored under.
    """
    table = WebhookSubscription.__table__
    rows = session.execute(
        select(
            table.c.id,
            type_coerce(table.c.secret, Text).label("secret"),
            type_coerce(table.c.previous_secret, Text).label("previous_secret"),
        ).with_for_update()
    ).all()
    for row in rows:
        session.execute(
            update(WebhookSubscription)
            .where(WebhookSubscription.id == row.id)
            .values(
                secret=type_coerce(secrets.rotate(row.secret), Text),
                previous_secret=type_coerce(
                    secrets.rotate(row.previous_secret) if row.previous_secret else None, Text
                ),
            )
        )
    session.flush()
    return len(rows)
