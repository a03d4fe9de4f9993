from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, func, insert, select, text
from sqlalchemy.orm import Session

from services.eventstore.schemas import NewEvent, RecordedEvent
from services.models import StoredEvent

# One key for every append: holding it until commit makes positions become visible in
# commit order, so a reader that tails `position > checkpoint` can never skip an event.
APPEND_LOCK_KEY = 0x5354414E4345  # "STANCE"


def lock_for_append(session: Session) -> None:
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPEND_LOCK_KEY})


def stream_version(session: Session, stream_id: str) -> int:
    current = session.scalar(
        select(func.max(StoredEvent.stream_version)).where(StoredEvent.stream_id == stream_id)
    )
    return current or 0


def insert_events(
    session: Session, stream_id: str, first_version: int, events: Sequence[NewEvent]
) -> list[RecordedEvent]:
    rows = [
        {
            "stream_id": stream_id,
            "stream_version": first_version + offset,
            "type": event.type,
            "data": event.data,
            "metadata_": event.metadata,
            "causation_id": event.causation_id,
            "occurred_at": event.occurred_at,
        }
        for offset, event in enumerate(events)
    ]
    result = session.execute(insert(StoredEvent).returning(*_columns()), rows)
    return sorted((_recorded(row) for row in result), key=lambda event: event.stream_version)


def causations_present(session: Session, causation_ids: Sequence[str]) -> set[str]:
    if not causation_ids:
        return set()
    found = session.scalars(
        select(StoredEvent.causation_id).where(StoredEvent.causation_id.in_(causation_ids))
    )
    return set(found)


def read_stream(session: Session, stream_id: str) -> list[RecordedEvent]:
    rows = session.execute(
        select(*_columns()).where(StoredEvent.stream_id == stream_id).order_by(StoredEvent.stream_version)
    )
    return [_recorded(row) for row in rows]


def read_all(
    session: Session,
    after: int,
    limit: int,
    types: Sequence[str] | None = None,
    stream_ids: Sequence[str] | None = None,
) -> list[RecordedEvent]:
    query = select(*_columns()).where(StoredEvent.position > after)
    if types:
        query = query.where(StoredEvent.type.in_(types))
    if stream_ids:
        query = query.where(StoredEvent.stream_id.in_(stream_ids))
    rows = session.execute(query.order_by(StoredEvent.position).limit(limit))
    return [_recorded(row) for row in rows]


def read_by_article(session: Session, article_id: str) -> list[RecordedEvent]:
    rows = session.execute(
        select(*_columns())
        .where(StoredEvent.metadata_["article_id"].astext == article_id)
        .order_by(StoredEvent.position)
    )
    return [_recorded(row) for row in rows]


def last_position(session: Session) -> int:
    return session.scalar(select(func.max(StoredEvent.position))) or 0


def _columns() -> tuple[Any, ...]:
    return (
        StoredEvent.position,
        StoredEvent.stream_id,
        StoredEvent.stream_version,
        StoredEvent.type,
        StoredEvent.data,
        StoredEvent.metadata_.label("metadata"),
        StoredEvent.occurred_at,
        StoredEvent.recorded_at,
    )


def _recorded(row: Row[Any]) -> RecordedEvent:
    # Rows of our own log are valid by construction; skip re-validating each one.
    return RecordedEvent.model_construct(
        position=row.position,
        stream_id=row.stream_id,
        stream_version=row.stream_version,
        type=row.type,
        data=row.data,
        metadata=row.metadata,
        occurred_at=row.occurred_at,
        recorded_at=row.recorded_at,
    )
