"""Enqueue work for the Celery workers through a transactional outbox.

`enqueue` writes the message into `task_outbox` in the caller's transaction, so it exists exactly
when the work it refers to does (an article and its extraction message commit together, or
neither does). A relay thread publishes outbox rows to the broker and deletes them; it runs off
the request path, with short broker timeouts, so a broker that is down or frozen never holds up a
request: the rows wait and go out within a second or two of the broker's return. Any process's
relay drains every row (`FOR UPDATE SKIP LOCKED`), so rows left by a process that died are sent
by the next one. Rows carry their queue, and a relay takes only its own queue's rows.

Publishing and deleting are not atomic: a row whose publish succeeded may be sent again if the
delete does not commit. Every task is idempotent (ids only, state in PostgreSQL), so a duplicate
message costs a little work and changes nothing.
"""

import os
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from services.db import after_commit, get_engine
from services.logging import get_logger
from services.models import TaskMessage
from services.settings import get_settings

PENDING_KEY = "pending_task_messages"
Message = tuple[str, tuple[Any, ...], float | None]
RELAY_BATCH = 500
log = get_logger(__name__)


def send(task_name: str, *args: Any, countdown: float | None = None) -> None:
    """Publish straight to the broker (tests and tools; application code uses `enqueue`)."""
    send_many([(task_name, args, countdown)])


def send_many(messages: Sequence[Message]) -> None:
    """Publish messages over one broker connection; raises when the broker does not take them."""
    from workers.app import celery_app

    with celery_app.producer_or_acquire() as producer:
        for task_name, args, countdown in messages:
            # No publish retries here: the relay retries the whole batch, and a caller of `send`
            # would rather hear at once that the broker is away.
            celery_app.send_task(task_name, args=args, countdown=countdown, producer=producer, retry=False)


def enqueue(session: Session, task_name: str, *args: Any, countdown: float | None = None) -> None:
    """Write the message in the session's transaction; the same message goes once per transaction.

    The relay is woken when the transaction commits.
    """
    enqueue_many(session, [(task_name, args, countdown)])


def enqueue_many(session: Session, messages: Sequence[Message]) -> None:
    """`enqueue` for several messages in one statement (a batch of articles: one INSERT, not 100)."""
    pending: list[Message] = session.info.setdefault(PENDING_KEY, [])
    fresh = []
    for message in messages:
        if message not in pending and message not in fresh:
            fresh.append(message)
    if not fresh:
        return
    if not pending:
        after_commit(session, lambda: _committed(session))
    pending.extend(fresh)
    queue_name, now = get_settings().queue, datetime.now(UTC)
    session.execute(
        insert(TaskMessage),
        [
            {
                "queue": queue_name,
                "task": task_name,
                "args": list(args),
                "not_before": now + timedelta(seconds=countdown) if countdown else None,
            }
            for task_name, args, countdown in fresh
        ],
    )


def _committed(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)
    relay.wake()


def relay_once(limit: int = RELAY_BATCH) -> int:
    """Publish up to `limit` outbox rows and delete them; returns how many went out.

    Raises when the broker refuses them (the rows stay for the next try).
    """
    with get_engine().begin() as connection:
        rows = connection.execute(
            select(TaskMessage.id, TaskMessage.task, TaskMessage.args, TaskMessage.not_before)
            .where(TaskMessage.queue == get_settings().queue)
            .order_by(TaskMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        if not rows:
            return 0
        now = datetime.now(UTC)
        send_many(
            [
                (
                    row.task,
                    tuple(row.args),
                    max(0.0, (row.not_before - now).total_seconds()) if row.not_before else None,
                )
                for row in rows
            ]
        )
        connection.execute(delete(TaskMessage).where(TaskMessage.id.in_([row.id for row in rows])))
    return len(rows)


class Relay:
    """One daemon thread per process that drains the outbox: at once when woken, else every
    `interval` seconds (rows from other processes, or left by a process that died)."""

    def __init__(self, interval: float = 1.0, max_backoff: float = 2.0) -> None:
        self.interval = interval
        self.max_backoff = max_backoff
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            # A forked child (a Celery pool process) inherits the object but not the thread.
            if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
                return
            self._stop.clear()
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="outbox-relay", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        self.start()
        self._wake.set()

    def stop(self, timeout: float = 5) -> None:
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread.is_alive() and self._pid == os.getpid():
            thread.join(timeout)

    def _run(self) -> None:
        backoff = 0.1
        failing_since: float | None = None
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            try:
                while not self._stop.is_set() and relay_once() == RELAY_BATCH:
                    pass
            except Exception as exc:  # broker or database away: keep the rows, try again shortly
                if failing_since is None:
                    failing_since = time.monotonic()
                    log.warning("outbox relay cannot publish; retrying", error=str(exc)[:300])
                self._stop.wait(backoff)
                backoff = min(self.max_backoff, backoff * 2)
                self._wake.set()  # go again after the pause rather than after a full interval
                continue
            if failing_since is not None:
                log.info(
                    "outbox relay publishing again", after_seconds=round(time.monotonic() - failing_since, 1)
                )
                failing_since = None
            backoff = 0.1


relay = Relay()


def wake_relay() -> None:
    relay.wake()


def start_relay() -> None:
    relay.start()
