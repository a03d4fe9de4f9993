"""The events of an actor's stream and the folding that tells its current positions."""

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from services.eventstore.schemas import RecordedEvent

STANCE_CHANGED = "StanceChanged"
STANCE_REAFFIRMED = "StanceReaffirmed"
STANCE_BACKFILLED = "StanceBackfilled"
STANCE_EVENT_TYPES = (STANCE_CHANGED, STANCE_REAFFIRMED, STANCE_BACKFILLED)

Stance = Literal["support", "oppose", "conditional"]
STANCES: tuple[Stance, ...] = ("support", "oppose", "conditional")


def stream_id_for(actor: str) -> str:
    return f"actor:{actor}"


def actor_of(stream_id: str) -> str:
    return stream_id.removeprefix("actor:")


@dataclass
class TopicState:
    stance: str
    since: datetime
    last_observed_at: datetime


def fold_positions(events: list[RecordedEvent]) -> dict[str, TopicState]:
    """Current position per topic after the stream's events, in stream order.

    A backfilled observation is history only: it never moves the current position.
    """
    state: dict[str, TopicState] = {}
    for event in events:
        topic = event.data["topic"]
        if event.type == STANCE_CHANGED:
            last = state[topic].last_observed_at if topic in state else event.occurred_at
            state[topic] = TopicState(event.data["stance"], event.occurred_at, max(last, event.occurred_at))
        elif event.type == STANCE_REAFFIRMED and topic in state:
            current = state[topic]
            current.last_observed_at = max(current.last_observed_at, event.occurred_at)
    return state
