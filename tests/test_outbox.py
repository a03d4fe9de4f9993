"""The task outbox: a message exists exactly when its transaction commits, and leaves only once sent."""

import uuid

import pytest
from sqlalchemy import select

from services import queue
from services.db import session_scope
from services.models import TaskMessage
from services.settings import get_settings


def rows() -> list[tuple[str, list]]:
    with session_scope() as session:
        return [(r.task, r.args) for r in session.scalars(select(TaskMessage).order_by(TaskMessage.id))]


@pytest.fixture
def quiet_relay(monkeypatch):
    """This process's relay held back, and a queue no worker's relay takes rows of, so the test
    decides when rows are sent."""
    monkeypatch.setattr(queue.relay, "wake", lambda: None)
    queue.relay.stop()
    monkeypatch.setenv("STANCE_QUEUE", f"outbox-test-{uuid.uuid4().hex[:8]}")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()
    queue.relay.start()


def test_a_rolled_back_transaction_leaves_no_message(clean_db, quiet_relay):
    with pytest.raises(RuntimeError), session_scope() as session:
        queue.enqueue(session, "articles.extract", "a")
        raise RuntimeError("the work failed")
    assert rows() == []


def test_a_committed_transaction_leaves_each_message_once(clean_db, quiet_relay):
    with session_scope() as session:
        queue.enqueue(session, "articles.extract", "a")
        queue.enqueue(session, "articles.extract", "a")
        queue.enqueue_many(session, [("articles.extract", ("a",), None), ("articles.extract", ("b",), None)])
    with session_scope() as session:
        queue.enqueue(session, "articles.extract", "a")  # a new transaction: sent again
    assert rows() == [("articles.extract", ["a"]), ("articles.extract", ["b"]), ("articles.extract", ["a"])]


def test_rows_stay_while_the_broker_refuses_and_leave_once_it_takes_them(clean_db, quiet_relay, monkeypatch):
    with session_scope() as session:
        queue.enqueue(session, "articles.extract", "a")
        queue.enqueue(session, "webhooks.deliver", "d", countdown=30)

    def refuse(messages):
        raise ConnectionError("broker away")

    monkeypatch.setattr(queue, "send_many", refuse)
    with pytest.raises(ConnectionError):
        queue.relay_once()
    assert len(rows()) == 2
    sent: list = []
    monkeypatch.setattr(queue, "send_many", sent.extend)
    assert queue.relay_once() == 2
    assert rows() == []
    assert [m[:2] for m in sent] == [("articles.extract", ("a",)), ("webhooks.deliver", ("d",))]
    assert sent[0][2] is None and 25 < sent[1][2] <= 30  # the countdown runs from the enqueue


def test_a_relay_takes_only_its_own_queues_rows(clean_db, quiet_relay, monkeypatch):
    with session_scope() as session:
        session.add(TaskMessage(queue="some-other-queue", task="articles.extract", args=["x"]))
    monkeypatch.setattr(queue, "send_many", lambda messages: None)
    assert queue.relay_once() == 0
    assert rows() == [("articles.extract", ["x"])]
