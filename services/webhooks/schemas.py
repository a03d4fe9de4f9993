"""What the subscriptions API reads and writes; the ORM rows never leave the service layer as they are."""

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

POSITION_CHANGED = "position.changed"
PING = "ping"
EventType = Literal["position.changed"]
DeliveryStatus = Literal["pending", "retrying", "delivered", "failed"]


def _no_nul(value: str | None) -> str | None:
    if value is not None and "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


CleanText = Annotated[str, AfterValidator(_no_nul)]
DomainId = Annotated[str, StringConstraints(min_length=1, max_length=100), AfterValidator(_no_nul)]


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2000, description="http(s) endpoint that receives the events.")
    description: CleanText | None = Field(default=None, max_length=500)
    actors: list[DomainId] = Field(
        default_factory=list, max_length=200, description="Actor ids; empty = every actor."
    )
    topics: list[DomainId] = Field(
        default_factory=list, max_length=200, description="Topic ids; empty = every topic."
    )
    event_types: list[EventType] = Field(
        default_factory=list, max_length=10, description="Event types; empty = every type."
    )


class SubscriptionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, min_length=1, max_length=2000)
    description: CleanText | None = Field(default=None, max_length=500)
    actors: list[DomainId] | None = Field(default=None, max_length=200)
    topics: list[DomainId] | None = Field(default=None, max_length=200)
    event_types: list[EventType] | None = Field(default=None, max_length=10)
    enabled: bool | None = Field(default=None, description="`true` re-enables a disabled subscription.")


class SubscriptionOut(BaseModel):
    id: uuid.UUID
    url: str
    description: str | None
    actors: list[str]
    topics: list[str]
    event_types: list[str]
    enabled: bool
    disabled_reason: str | None
    disabled_at: datetime | None
    failing_since: datetime | None
    previous_secret_expires_at: datetime | None = Field(
        description="Until then the secret replaced by the last rotation still signs alongside the new one."
    )
    created_at: datetime
    updated_at: datetime


class SubscriptionCreated(SubscriptionOut):
    secret: str = Field(description="The `whsec_…` signing secret; shown only in this response.")


class SubscriptionPage(BaseModel):
    items: list[SubscriptionOut]
    next_cursor: str | None


class SecretRotated(BaseModel):
    secret: str = Field(description="The new `whsec_…` signing secret; shown only in this response.")
    previous_secret_expires_at: datetime | None


class AttemptOut(BaseModel):
    attempted_at: datetime
    status_code: int | None
    latency_ms: float | None
    error: str | None
    response_body: str | None


class DeliveryOut(BaseModel):
    id: uuid.UUID
    webhook_id: str = Field(description="The `webhook-id` header: the same on every retry of this delivery.")
    subscription_id: uuid.UUID
    event_type: str
    event_position: int | None
    replay: bool
    status: DeliveryStatus
    attempt_count: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    last_error: str | None
    created_at: datetime
    payload: dict[str, Any]
    attempts: list[AttemptOut]


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None


class ReplayResult(BaseModel):
    created: int = Field(description="How many deliveries the replay queued.")
    delivery_ids: list[uuid.UUID]
