from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class NewEvent(BaseModel):
    type: str
    data: dict[str, Any]
    metadata: dict[str, Any] = Field(default_factory=dict)
    causation_id: str
    occurred_at: datetime


class RecordedEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    position: int
    stream_id: str
    stream_version: int
    type: str
    data: dict[str, Any]
    metadata: dict[str, Any]
    occurred_at: datetime
    recorded_at: datetime


class EventPage(BaseModel):
    items: list[RecordedEvent]
    next_cursor: str | None = Field(description="Pass as `after` to read on; null at the end of the log.")
