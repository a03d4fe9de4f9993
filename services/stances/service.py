"""Turn an article's claims into stance events on each actor's stream."""

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from services.eventstore import service as event_store
from services.eventstore.schemas import NewEvent, RecordedEvent
from services.eventstore.service import WrongExpectedVersion
from services.extraction.schemas import Claim
from services.models import Article
from services.stances.events import (
    STANCE_BACKFILLED,
    STANCE_CHANGED,
    STANCE_REAFFIRMED,
    fold_positions,
    stream_id_for,
)

MAX_APPEND_ATTEMPTS = 5


def causation_id(article_id: object, claim: Claim) -> str:
    return f"article:{article_id}:{claim.actor}:{claim.topic}:{claim.stance}"


def decide(
    history: list[RecordedEvent], claims: Sequence[Claim], article: Article, extractor: str
) -> list[NewEvent]:
    """The events an article's claims about one actor add to that actor's stream.

    Claims are taken least confident first, so when an article gives one actor two stances on
    a topic the more confident one ends up current.
    """
    state = fold_positions(history)
    seen = {event.metadata.get("causation_id") for event in history}
    # An undated article's date is only when it arrived: unless its client said that date may
    # stand, what it says must not become anyone's current position.
    history_only = bool(article.published_at_inferred) and article.published_at_fallback != "ingest_time"
    metadata: dict[str, Any] = {"article_id": str(article.id), "extractor": extractor}
    if article.published_at_inferred:
        metadata["published_at_inferred"] = True
    decided: list[NewEvent] = []
    for claim in sorted(claims, key=lambda c: c.confidence):
        cause = causation_id(article.id, claim)
        if cause in seen:
            continue
        current = state.get(claim.topic)
        occurred_at = article.published_at
        if history_only:
            event_type = STANCE_BACKFILLED  # in the timeline at its inferred date, never current
        elif current is None or (occurred_at >= current.last_observed_at and claim.stance != current.stance):
            event_type = STANCE_CHANGED
        elif occurred_at < current.last_observed_at:
            event_type = STANCE_BACKFILLED
        else:
            event_type = STANCE_REAFFIRMED
        previous = current.stance if current is not None else None
        event = NewEvent(
            type=event_type,
            data=_event_data(claim, article, previous),
            metadata={**metadata, "causation_id": cause},
            causation_id=cause,
            occurred_at=occurred_at,
        )
        decided.append(event)
        seen.add(cause)
        state = fold_positions([*history, *(_as_recorded(e) for e in decided)])
    return decided


def record_claims(session: Session, article: Article, claims: Sequence[Claim], extractor: str) -> int:
    """Append the events of every actor the claims name; returns how many were appended."""
    by_actor: dict[str, list[Claim]] = defaultdict(list)
    for claim in claims:
        by_actor[claim.actor].append(claim)
    appended = 0
    for actor in sorted(by_actor):  # a fixed order keeps concurrent writers from interleaving oddly
        stream_id = stream_id_for(actor)
        for _attempt in range(MAX_APPEND_ATTEMPTS):
            history = event_store.read_stream(session, stream_id)
            events = decide(history, by_actor[actor], article, extractor)
            try:
                appended += len(event_store.append(session, stream_id, len(history), events))
                break
            except WrongExpectedVersion:
                continue
        else:
            raise WrongExpectedVersion(stream_id, len(history), -1)
    return appended


def _event_data(claim: Claim, article: Article, previous: str | None) -> dict[str, Any]:
    return {
        "actor": claim.actor,
        "topic": claim.topic,
        "stance": claim.stance,
        "conditions": list(claim.conditions),
        "summary": claim.summary,
        "previous": previous,
        "confidence": round(float(claim.confidence), 3),
        "evidence": {
            "article_id": str(article.id),
            "quote": claim.quote,
            "start": claim.start,
            "end": claim.end,
            "speaker": claim.speaker,
            "url": article.url,
            "source": article.source,
            "title": article.title,
            "published_at_inferred": bool(article.published_at_inferred),
        },
    }


def _as_recorded(event: NewEvent) -> RecordedEvent:
    return RecordedEvent(
        position=0,
        stream_id="",
        stream_version=0,
        type=event.type,
        data=event.data,
        metadata=event.metadata,
        occurred_at=event.occurred_at,
        recorded_at=event.occurred_at,
    )
