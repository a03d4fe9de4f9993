from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Row, String, and_, any_, cast, delete, func, not_, select, text, tuple_
from sqlalchemy.dialects.postgresql import ARRAY, distinct_on, insert
from sqlalchemy.orm import Session

from services.models import CurrentPosition, PositionHistory, ProjectionCheckpoint

# Only one projector may advance a checkpoint at a time, across every process.
PROJECTOR_LOCK_KEY = 0x50524F4A  # "PROJ"


def lock_projector(session: Session) -> None:
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PROJECTOR_LOCK_KEY})


def checkpoint(session: Session, name: str) -> int:
    session.execute(insert(ProjectionCheckpoint).values(name=name, position=0).on_conflict_do_nothing())
    return session.scalar(select(ProjectionCheckpoint.position).where(ProjectionCheckpoint.name == name)) or 0


def checkpoint_version(session: Session, name: str) -> tuple[int, datetime | None]:
    """The checkpoint and when it last moved (a rebuild moves it too), without creating it."""
    row = session.execute(
        select(ProjectionCheckpoint.position, ProjectionCheckpoint.updated_at).where(
            ProjectionCheckpoint.name == name
        )
    ).first()
    return (row.position, row.updated_at) if row is not None else (0, None)


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
    keys = set(keys)
    if not keys:
        return {}
    actors = sorted({actor for actor, _ in keys})
    topics = sorted({topic for _, topic in keys})
    # The evidence of a position being replaced is never needed, so it is not decoded.
    columns = [c for c in CurrentPosition.__table__.c if c.name != "evidence"]
    rows = session.execute(
        select(*columns).where(
            CurrentPosition.actor == any_(cast(actors, ARRAY(String))),
            CurrentPosition.topic == any_(cast(topics, ARRAY(String))),
        )
    ).mappings()
    found = {(row["actor"], row["topic"]): dict(row) for row in rows}
    return {key: row for key, row in found.items() if key in keys}


def upsert_current(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        session.execute(_UPSERT_CURRENT, {"rows": _as_json(rows)})


def insert_history(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        session.execute(_INSERT_HISTORY, {"rows": _as_json(rows)})


def _as_json(rows: Sequence[dict[str, Any]]) -> str:
    return orjson.dumps(list(rows)).decode()


# A whole batch travels as one JSON parameter: one round trip and one cached statement,
# instead of an executemany of a statement per row.
_UPSERT_CURRENT = text(
    """
    INSERT INTO current_positions (actor, topic, stance, conditions, summary, confidence, evidence,
                                   since, last_observed_at, event_position, observations)
    SELECT actor, topic, stance, conditions, summary, confidence, evidence,
           since, last_observed_at, event_position, observations
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(
        actor varchar, topic varchar, stance varchar, conditions jsonb, summary text,
        confidence float8, evidence jsonb, since timestamptz, last_observed_at timestamptz,
        event_position bigint, observations int)
    ON CONFLICT (actor, topic) DO UPDATE SET
        stance = excluded.stance, conditions = excluded.conditions, summary = excluded.summary,
        confidence = excluded.confidence, evidence = excluded.evidence, since = excluded.since,
        last_observed_at = excluded.last_observed_at, event_position = excluded.event_position,
        observations = excluded.observations
    """
)
_INSERT_HISTORY = text(
    """
    INSERT INTO position_history (event_position, actor, topic, kind, stance, previous, conditions,
                                  summary, confidence, evidence, occurred_at)
    SELECT event_position, actor, topic, kind, stance, previous, conditions,
           summary, confidence, evidence, occurred_at
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(
        event_position bigint, actor varchar, topic varchar, kind varchar, stance varchar,
        previous varchar, conditions jsonb, summary text, confidence float8, evidence jsonb,
        occurred_at timestamptz)
    ON CONFLICT DO NOTHING
    """
)


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
) -> list[Row[Any]]:
    """Current positions as plain rows: the read path never needs ORM identity or change tracking."""
    query = select(CurrentPosition.__table__)
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
    return list(session.execute(query))


def list_as_of(
    session: Session,
    as_of: datetime,
    actor: str | None = None,
    topic: str | None = None,
) -> list[PositionHistory]:
    """The latest observation per (actor, topic) published at or before `as_of`.

    An undated article's history-only observation is left out: its time is only when it arrived,
    so it says nothing about where anyone stood then.
    """
    undated_history_only = and_(
        PositionHistory.kind == "StanceBackfilled",
        func.coalesce(PositionHistory.evidence["published_at_inferred"].as_boolean(), False),
    )
    query = select(PositionHistory).where(PositionHistory.occurred_at <= as_of, not_(undated_history_only))
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
