"""Webhook subscriptions, the delivery outbox and delivery attempts."""

from collections.abc import Sequence

from sqlalchemy.orm import Session

from services.positions.changes import PositionChange


def record_position_changes(session: Session, changes: Sequence[PositionChange]) -> None:
    """Write one outbox delivery per matching enabled subscription, in the projector's transaction."""
    return None
