from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, text, tuple_
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.orm import Session

from services.models import CurrentPosition, PositionHistory, ProjectionCheckpoint

# Only one projector may advance a checkpoint at a time, across every process.
PROJECTOR_LOCK_KEY = 0x50524F4A  # "PROJ"

POSITION_COLUMNS = (
    "actor",
    "topic",
    "stance",
    "conditions",
    "summary",
    "confidence",
    "evidence",
    "since",
    "last_observed_at",
    "event_position",
    "observations",
)


def lock_projector(session: Session) -> None:
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PROJECTOR_LOCK_KEY})


def checkpoint(session: Session, name: str) -> int:
    session.execute(insert(ProjectionCheckpoint).values(name=name, position=0).on_conflict_do_nothing())
    return session.scalar(select(ProjectionCheckpoint.position).where(ProjectionCheckpoint.name == name)) or 0


def set_checkpoint(session: Session, name: str, position: int) -> None:
    session.execute(
        insert(ProjectionCheckpoint)
        .values(name=name, position=position)
        .on_conflict_do_update(
            index_elements=[ProjectionCheckpoint.name],
            set_={"position": position, "updated_at": text("now()")},
        )
    )


def current_for(session: Session, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    keys = list(keys)
    if not keys:
        return {}
    rows = session.execute(
        select(CurrentPosition.__table__).where(
            tuple_(CurrentPosition.actor, CurrentPosition.topic).in_(keys)
        )
    ).mappings()
    return {(row["actor"], row["topic"]): dict(row) for row in rows}


def upsert_current(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    statement = insert(CurrentPosition)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[CurrentPosition.actor, CurrentPosition.topic],
            set_={column: statement.excluded[column] for column in POSITION_COLUMNS[2:]},
        ),
        list(rows),
    )


def insert_history(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(PositionHistory).on_conflict_do_nothing(), list(rows))


def clear(session: Session) -> None:
    session.execute(delete(CurrentPosition))
    session.execute(delete(PositionHistory))


def list_current(
    session: Session,
    actors: Sequence[str] | None = None,
    topic: str | None = None,
    stance: str | None = None,
    after: tuple[str, str] | None = None,
    limit: int | None = None,
) -> list[CurrentPosition]:
    query = select(CurrentPosition)
    if actors:
        query = query.where(CurrentPosition.actor.in_(actors))
    if topic:
        query = query.where(CurrentPosition.topic == topic)
    if stance:
        query = query.where(CurrentPosition.stance == stance)
    if after:
        query = query.where(tuple_(CurrentPosition.actor, CurrentPosition.topic) > after)
    query = query.order_by(CurrentPosition.actor, CurrentPosition.topic)
    if limit:
        query = query.limit(limit)
    return list(session.scalars(query))


def list_as_of(
    session: Session,
    as_of: datetime,
    actor: str | None = None,
    topic: str | None = None,
) -> list[PositionHistory]:
    """The latest observation per (actor, topic) published at or before `as_of`."""
    query = select(PositionHistory).where(PositionHistory.occurred_at <= as_of)
    if actor:
        query = query.where(PositionHistory.actor == actor)
    if topic:
        query = query.where(PositionHistory.topic == topic)
    query = query.ext(distinct_on(PositionHistory.actor, PositionHistory.topic)).order_by(
        PositionHistory.actor,
        PositionHistory.topic,
        PositionHistory.occurred_at.desc(),
        PositionHistory.event_position.desc(),
    )
    return list(session.scalars(query))


def history(session: Session, actor: str, topic: str) -> list[PositionHistory]:
    return list(
        session.scalars(
            select(PositionHistory)
            .where(PositionHistory.actor == actor, PositionHistory.topic == topic)
            .order_by(PositionHistory.occurred_at, PositionHistory.event_position)
        )
    )


def snapshot(session: Session) -> dict[str, list[dict[str, Any]]]:
    """Every row of the read tables, in a fixed order, for comparing two builds."""
    positions = session.execute(
        select(CurrentPosition.__table__).order_by(CurrentPosition.actor, CurrentPosition.topic)
    ).mappings()
    steps = session.execute(
        select(PositionHistory.__table__).order_by(PositionHistory.event_position)
    ).mappings()
    return {"current_positions": [dict(r) for r in positions], "position_history": [dict(r) for r in steps]}
