from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

Stance = Literal["support", "oppose", "conditional"]


class EvidenceOut(BaseModel):
    article_id: str
    quote: str
    start: int | None = None
    end: int | None = None
    speaker: str | None = None
    url: str | None = None
    source: str | None = None
    title: str | None = None
    published_at_inferred: bool = Field(
        default=False, description="The article had no date; the step's time is when it arrived."
    )


class PositionOut(BaseModel):
    actor: str
    actor_name: str
    topic: str
    topic_name: str
    stance: Stance
    conditions: list[str]
    summary: str
    confidence: float
    since: datetime = Field(description="When the actor took this stance (publication time of the article).")
    last_observed_at: datetime
    observations: int
    event_position: int
    evidence: EvidenceOut


class PositionPage(BaseModel):
    items: list[PositionOut]
    next_cursor: str | None


class HistoryStep(BaseModel):
    event_position: int
    kind: Literal["StanceChanged", "StanceReaffirmed", "StanceBackfilled"]
    stance: Stance
    previous: Stance | None
    conditions: list[str]
    summary: str
    confidence: float
    occurred_at: datetime
    evidence: EvidenceOut


class PositionHistoryOut(BaseModel):
    actor: str
    topic: str
    current: PositionOut | None
    items: list[HistoryStep]


class ActorOut(BaseModel):
    id: str
    name: str
    positions: list[PositionOut]


class ActorPage(BaseModel):
    items: list[ActorOut]
    next_cursor: str | None


class TopicStanceEntry(BaseModel):
    actor: str
    actor_name: str
    conditions: list[str]
    since: datetime


class TopicOut(BaseModel):
    id: str
    name: str
    description: str
    support: list[TopicStanceEntry]
    oppose: list[TopicStanceEntry]
    conditional: list[TopicStanceEntry]


class TopicPage(BaseModel):
    items: list[TopicOut]


class RebuildResult(BaseModel):
    events_replayed: int
    positions: int
    history_rows: int
    checkpoint: int
    details: dict[str, Any] = Field(default_factory=dict)
