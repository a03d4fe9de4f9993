from dataclasses import dataclass
from typing import Any

from services.eventstore.schemas import RecordedEvent


@dataclass(frozen=True)
class PositionChange:
    """A current position moved; what webhook subscribers hear about."""

    actor: str
    topic: str
    previous: dict[str, Any] | None
    current: dict[str, Any]
    event: RecordedEvent
