"""Reading positions: current, as of a past instant, per actor, per topic, and as a timeline."""

from collections.abc import Sequence
from datetime import datetime
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import Session

from services.extraction.domain import load_domain_pack
from services.extraction.schemas import DomainPack
from services.models import PositionHistory
from services.positions import repository
from services.positions.schemas import (
    ActorOut,
    EvidenceOut,
    HistoryStep,
    PositionHistoryOut,
    PositionOut,
    TopicOut,
    TopicStanceEntry,
)
from services.settings import Settings


class Names:
    """Display names from the domain pack; ids the pack does not know show as themselves."""

    def __init__(self, pack: DomainPack) -> None:
        self.pack = pack

    @cached_property
    def actors(self) -> dict[str, str]:
        return {actor.id: actor.name for actor in self.pack.actors}

    @cached_property
    def topics(self) -> dict[str, Any]:
        return {topic.id: topic for topic in self.pack.topics}

    def actor(self, actor_id: str) -> str:
        return self.actors.get(actor_id, actor_id)

    def topic(self, topic_id: str) -> str:
        topic = self.topics.get(topic_id)
        return topic.name if topic is not None else topic_id


def names(settings: Settings) -> Names:
    return _names_for(settings.domain_pack)


@lru_cache(maxsize=8)
def _names_for(pack_path: Path | None) -> Names:
    return Names(load_domain_pack(pack_path))


def to_position(row: Row[Any], names: Names) -> PositionOut:
    return _position(row, names, row.since, row.last_observed_at, row.observations)


def history_as_position(row: PositionHistory, names: Names) -> PositionOut:
    """A past step shown as the position it was: held since, and last seen, at its own date."""
    return _position(row, names, row.occurred_at, row.occurred_at, 1)


def _position(
    row: Row[Any] | PositionHistory,
    names: Names,
    since: datetime,
    last_observed_at: datetime,
    observations: int,
) -> PositionOut:
    return PositionOut(
        actor=row.actor,
        actor_name=names.actor(row.actor),
        topic=row.topic,
        topic_name=names.topic(row.topic),
        stance=row.stance,  # type: ignore[arg-type]
        conditions=row.conditions,
        summary=row.summary,
        confidence=row.confidence,
        since=since,
        last_observed_at=last_observed_at,
        observations=observations,
        event_position=row.event_position,
        evidence=EvidenceOut.model_validate(row.evidence),
    )


def list_positions(
    session: Session,
    names: Names,
    actors: Sequence[str] | None,
    topic: str | None,
    stance: str | None,
    as_of: datetime | None,
    after: tuple[str, str] | None,
    limit: int,
) -> list[PositionOut]:
    if as_of is None:
        rows = repository.list_current(session, actors, topic, stance, after, limit)
        return [to_position(row, names) for row in rows]
    past = [
        history_as_position(row, names)
        for row in repository.list_as_of(session, as_of, None, topic)
        if (not actors or row.actor in actors) and (after is None or (row.actor, row.topic) > after)
    ]
    return [p for p in past if stance is None or p.stance == stance][:limit]


def actor_ids(session: Session, names: Names) -> list[str]:
    with_positions = {row.actor for row in repository.list_current(session)}
    return sorted(set(names.actors) | with_positions)


def actors(session: Session, names: Names, ids: Sequence[str]) -> list[ActorOut]:
    positions = repository.list_current(session, actors=ids) if ids else []
    by_actor: dict[str, list[PositionOut]] = {actor_id: [] for actor_id in ids}
    for row in positions:
        by_actor[row.actor].append(to_position(row, names))
    return [ActorOut(id=i, name=names.actor(i), positions=by_actor[i]) for i in ids]


def topics(session: Session, names: Names) -> list[TopicOut]:
    grouped: dict[str, dict[str, list[TopicStanceEntry]]] = {}
    for row in repository.list_current(session):
        entry = TopicStanceEntry(
            actor=row.actor, actor_name=names.actor(row.actor), conditions=row.conditions, since=row.since
        )
        grouped.setdefault(row.topic, {"support": [], "oppose": [], "conditional": []})[row.stance].append(
            entry
        )
    ids = sorted(set(names.topics) | set(grouped))
    out = []
    for topic_id in ids:
        by_stance = grouped.get(topic_id, {"support": [], "oppose": [], "conditional": []})
        topic = names.topics.get(topic_id)
        out.append(
            TopicOut(
                id=topic_id,
                name=names.topic(topic_id),
                description=topic.description if topic is not None else "",
                **by_stance,
            )
        )
    return out


def position_history(session: Session, names: Names, actor: str, topic: str) -> PositionHistoryOut:
    current = repository.list_current(session, actors=[actor], topic=topic)
    steps = [
        HistoryStep(
            event_position=row.event_position,
            kind=row.kind,  # type: ignore[arg-type]
            stance=row.stance,  # type: ignore[arg-type]
            previous=row.previous,  # type: ignore[arg-type]
            conditions=row.conditions,
            summary=row.summary,
            confidence=row.confidence,
            occurred_at=row.occurred_at,
            evidence=EvidenceOut.model_validate(row.evidence),
        )
        for row in repository.history(session, actor, topic)
    ]
    return PositionHistoryOut(
        actor=actor,
        topic=topic,
        current=to_position(current[0], names) if current else None,
        items=steps,
    )
