"""Every table, on one metadata, so Alembic sees the whole schema."""

import uuid
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.secrets import EncryptedText

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSONB,
        list[Any]: JSONB,
        uuid.UUID: UUID(as_uuid=True),
    }


ARTICLE_STATUSES = ("pending", "processing", "processed", "failed", "skipped")


class Article(Base):
    __tablename__ = "articles"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'processing', 'processed', 'failed', 'skipped')", name="status"
        ),
        CheckConstraint(
            "published_at_fallback IS NULL OR published_at_fallback IN ('history', 'ingest_time')",
            name="published_at_fallback",
        ),
        Index("ix_articles_status_updated_at", "status", "updated_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    url: Mapped[str | None] = mapped_column(Text, unique=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    title: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(16), default="en")
    body: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime]
    # True when the client sent no date and published_at is the ingest time; the fallback says
    # what the undated article may do: `history` (never move a current position) or `ingest_time`.
    published_at_inferred: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    published_at_fallback: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    skip_reason: Mapped[str | None] = mapped_column(String(32))
    claims: Mapped[list[Any] | None]
    events_appended: Mapped[int | None] = mapped_column(Integer)
    extractor: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
    processed_at: Mapped[datetime | None]


class StoredEvent(Base):
    """The append-only event log. Nothing in the code updates or deletes a row of it."""

    __tablename__ = "events"
    __table_args__ = (
        PrimaryKeyConstraint("stream_id", "stream_version"),
        CheckConstraint("stream_version >= 1", name="stream_version_positive"),
        Index("ix_events_article_id", text("(metadata ->> 'article_id')")),
        Index("ix_events_type_position", "type", "position"),
    )

    position: Mapped[int] = mapped_column(BigInteger, Identity(always=True), unique=True)
    stream_id: Mapped[str] = mapped_column(String(200))
    stream_version: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]]
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata")
    causation_id: Mapped[str] = mapped_column(String(300), unique=True)
    occurred_at: Mapped[datetime]
    recorded_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ProjectionCheckpoint(Base):
    __tablename__ = "projection_checkpoints"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class CurrentPosition(Base):
    __tablename__ = "current_positions"
    __table_args__ = (
        PrimaryKeyConstraint("actor", "topic"),
        Index("ix_current_positions_topic", "topic"),
    )

    actor: Mapped[str] = mapped_column(String(100))
    topic: Mapped[str] = mapped_column(String(100))
    stance: Mapped[str] = mapped_column(String(16))
    conditions: Mapped[list[Any]]
    summary: Mapped[str] = mapped_column(Text)
    confidence: Mapped[float]
    evidence: Mapped[dict[str, Any]]
    since: Mapped[datetime]
    last_observed_at: Mapped[datetime]
    event_position: Mapped[int] = mapped_column(BigInteger)
    observations: Mapped[int] = mapped_column(Integer, default=1)


class PositionHistory(Base):
    """One row per stance event: the timeline of each (actor, topic), in publication order."""

    __tablename__ = "position_history"
    __table_args__ = (Index("ix_position_history_actor_topic_occurred", "actor", "topic", "occurred_at"),)

    event_position: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    actor: Mapped[str] = mapped_column(String(100))
    topic: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    stance: Mapped[str] = mapped_column(String(16))
    previous: Mapped[str | None] = mapped_column(String(16))
    conditions: Mapped[list[Any]]
    summary: Mapped[str] = mapped_column(Text)
    confidence: Mapped[float]
    evidence: Mapped[dict[str, Any]]
    occurred_at: Mapped[datetime]


class TaskMessage(Base):
    """The task outbox: a message for the broker, written in the transaction of the work it names
    and deleted once the relay has published it (services.queue)."""

    __tablename__ = "task_outbox"
    __table_args__ = (Index("ix_task_outbox_queue_id", "queue", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    # The Celery queue the writer sends to; a relay only takes its own queue's rows.
    queue: Mapped[str] = mapped_column(String(200))
    task: Mapped[str] = mapped_column(String(100))
    args: Mapped[list[Any]]
    not_before: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(32))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(16)))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    revoked_at: Mapped[datetime | None]


WEBHOOK_DELIVERY_STATUSES = ("pending", "retrying", "delivered", "failed")


class WebhookSubscription(Base):
    """An endpoint that hears about position changes; empty filters match everything."""

    __tablename__ = "webhook_subscriptions"
    __table_args__ = (Index("ix_webhook_subscriptions_created_at_id", "created_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    url: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    actors: Mapped[list[str]] = mapped_column(ARRAY(String(100)), default=list)
    topics: Mapped[list[str]] = mapped_column(ARRAY(String(100)), default=list)
    event_types: Mapped[list[str]] = mapped_column(ARRAY(String(64)), default=list)
    # The signing key has to be readable to sign with: stored encrypted (services.secrets).
    secret: Mapped[str] = mapped_column(EncryptedText)
    previous_secret: Mapped[str | None] = mapped_column(EncryptedText)
    previous_secret_expires_at: Mapped[datetime | None]
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    disabled_at: Mapped[datetime | None]
    failing_since: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class WebhookDelivery(Base):
    """One message to one subscription (the outbox row); its id is the stable `webhook-id`."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'retrying', 'delivered', 'failed')", name="status"),
        # A replayed projector batch finds its deliveries already written and adds none.
        UniqueConstraint("subscription_id", "dedupe_key", name="uq_webhook_deliveries_subscription_dedupe"),
        Index("ix_webhook_deliveries_subscription_sequence", "subscription_id", "sequence"),
        Index(
            "ix_webhook_deliveries_outstanding",
            "next_attempt_at",
            postgresql_where=text("status IN ('pending', 'retrying')"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    sequence: Mapped[int] = mapped_column(BigInteger, Identity(always=True), unique=True)
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE")
    )
    event_type: Mapped[str] = mapped_column(String(64))
    event_position: Mapped[int | None] = mapped_column(BigInteger)
    dedupe_key: Mapped[str] = mapped_column(String(200))
    replay: Mapped[bool] = mapped_column(Boolean, default=False)
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(server_default=func.now())
    last_attempt_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class WebhookDeliveryAttempt(Base):
    """Every try at sending a delivery, kept for the subscriber's and the operator's debugging."""

    __tablename__ = "webhook_delivery_attempts"
    __table_args__ = (Index("ix_webhook_delivery_attempts_delivery_id", "delivery_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    delivery_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook_deliveries.id", ondelete="CASCADE"))
    attempted_at: Mapped[datetime]
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    response_body: Mapped[str | None] = mapped_column(Text)


__all__ = [
    "ARTICLE_STATUSES",
    "WEBHOOK_DELIVERY_STATUSES",
    "ApiKey",
    "Article",
    "Base",
    "CurrentPosition",
    "PositionHistory",
    "ProjectionCheckpoint",
    "StoredEvent",
    "TaskMessage",
    "WebhookDelivery",
    "WebhookDeliveryAttempt",
    "WebhookSubscription",
]
