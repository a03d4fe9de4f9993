from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import orjson
import psycopg.types.json
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from services.settings import get_settings

AFTER_COMMIT_KEY = "after_commit_callbacks"


@lru_cache
def get_engine(url: str | None = None) -> Engine:
    return create_engine(
        url or get_settings().require_database_url(),
        # As many as the API's thread pool runs at once, so a busy API does not reconnect.
        pool_size=40,
        max_overflow=10,
        pool_recycle=1800,
        # A connection the database dropped (it restarted) is found and replaced at checkout, so
        # the first requests after a restart succeed instead of failing on a dead socket.
        pool_pre_ping=True,
        # A database that does not answer makes a request fail in seconds (a 503), not hang.
        pool_timeout=10,
        connect_args={"options": "-c timezone=UTC", "connect_timeout": 5},
        json_serializer=_dumps,
        json_deserializer=orjson.loads,
    )


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


# JSONB columns read through psycopg directly (Core rows) decode with orjson too.
psycopg.types.json.set_json_loads(orjson.loads)


@lru_cache
def get_sessionmaker(url: str | None = None) -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(url), expire_on_commit=False)


@lru_cache
def get_read_sessionmaker(url: str | None = None) -> sessionmaker[Session]:
    """Sessions for requests that only read: each statement is its own transaction (as it would be
    under READ COMMITTED anyway), which spares the BEGIN and COMMIT round trips."""
    engine = get_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    return sessionmaker(bind=engine, expire_on_commit=False)


def after_commit(session: Session, callback: Callable[[], Any]) -> None:
    """Run `callback` once the session's transaction has committed (never on rollback).

    Work that other processes must see the result of, such as enqueueing a task, goes here.
    """
    session.info.setdefault(AFTER_COMMIT_KEY, []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    callbacks = session.info.pop(AFTER_COMMIT_KEY, [])
    for callback in callbacks:
        callback()


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_commit(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.parent is None:  # a savepoint rolling back keeps the outer work
        session.info.pop(AFTER_COMMIT_KEY, None)
        session.info.pop("pending_task_messages", None)


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """The unit of work for tasks and commands: commit on success, roll back on error."""
    session = get_sessionmaker(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
