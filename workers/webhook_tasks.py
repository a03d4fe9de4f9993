"""Webhook delivery tasks: thin wrappers that open a unit of work and call the webhook services."""

import uuid

from services.db import session_scope
from services.settings import get_settings
from services.webhooks import delivery, service
from workers.app import celery_app


@celery_app.task(name="webhooks.deliver", acks_late=True, ignore_result=True)
def deliver(delivery_id: str) -> str:
    """Attempt one delivery; idempotent, so a duplicate or redelivered message does no harm."""
    key = uuid.UUID(delivery_id)
    with session_scope() as session:
        outcome = delivery.attempt(session, key, get_settings())
        subscription_id = delivery.subscription_of(session, key)
    if outcome in ("delivered", "failed", "waiting") and subscription_id is not None:
        # Settled: the next delivery in this subscription's line was waiting for this one.
        # Waiting: the earlier one may have settled while this row was locked, and its hand-over
        # then found this row busy; looking again after commit makes sure the line moves.
        with session_scope() as session:
            service.dispatch_due(session, subscription_id)
    return outcome


@celery_app.task(name="webhooks.dispatch_due", acks_late=True, ignore_result=True)
def dispatch_due() -> int:
    """Beat's safety net: enqueue due deliveries whose message was lost or never sent."""
    with session_scope() as session:
        return service.dispatch_due(session)
