"""Every table, on one metadata, so Alembic sees the whole schema."""

import uuid
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Identity,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

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
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
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


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(32))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(16)))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    revoked_at: Mapped[datetime | None]


__all__ = [
    "ARTICLE_STATUSES",
    "ApiKey",
    "Article",
    "Base",
    "CurrentPosition",
    "PositionHistory",
    "ProjectionCheckpoint",
    "StoredEvent",
]
