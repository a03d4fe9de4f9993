"""Enqueue work for the Celery workers, only once the caller's transaction has committed.

A message that cannot be sent (the broker is down) is logged, not raised: the data it refers to
is committed, and beat's sweeps find pending articles and due deliveries again.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from services.db import after_commit
from services.logging import get_logger

PENDING_KEY = "pending_task_messages"
Message = tuple[str, tuple[Any, ...], float | None]
log = get_logger(__name__)


def send(task_name: str, *args: Any, countdown: float | None = None) -> None:
    send_many([(task_name, args, countdown)])


def send_many(messages: Sequence[Message]) -> None:
    """Publish messages over one broker connection."""
    from workers.app import celery_app

    with celery_app.producer_or_acquire() as producer:
        for task_name, args, countdown in messages:
            celery_app.send_task(task_name, args=args, countdown=countdown, producer=producer)


def enqueue(session: Session, task_name: str, *args: Any, countdown: float | None = None) -> None:
    """Send the task after commit; the same task with the same arguments goes once per transaction."""
    pending: list[Message] = session.info.setdefault(PENDING_KEY, [])
    message = (task_name, args, countdown)
    if message in pending:
        return
    if not pending:
        after_commit(session, lambda: _flush(session))
    pending.append(message)


def _flush(session: Session) -> None:
    messages = session.info.pop(PENDING_KEY, [])
    if not messages:
        return
    try:
        send_many(messages)
    except Exception as exc:  # the broker is down; the sweeps will find the work again
        log.warning("could not enqueue tasks", count=len(messages), error=str(exc))
