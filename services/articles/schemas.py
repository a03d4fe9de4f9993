import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, field_validator

from services.eventstore.schemas import RecordedEvent

ArticleStatus = Literal["pending", "processing", "processed", "failed", "skipped"]


class ArticleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(description="The article's text (plain text; HTML is accepted as text/html).")
    title: str | None = Field(default=None, max_length=1000)
    url: AnyHttpUrl | None = None
    source: str | None = Field(default=None, max_length=300)
    published_at: datetime | None = Field(
        default=None, description="ISO 8601; a time without a zone is read as UTC. Defaults to now."
    )
    language: str | None = Field(default=None, max_length=16, description="Only `en` is read.")

    @field_validator("title", "source", "language")
    @classmethod
    def _strip(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None


class ArticleBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    articles: list[ArticleIn] = Field(min_length=1)


class ArticleLinks(BaseModel):
    self: str


class ArticleAccepted(BaseModel):
    id: uuid.UUID
    status: ArticleStatus
    created: bool = Field(description="False when the article was already stored (a duplicate).")
    links: ArticleLinks


class ArticleBatchAccepted(BaseModel):
    items: list[ArticleAccepted]


class ArticleDetail(BaseModel):
    id: uuid.UUID
    status: ArticleStatus
    title: str | None
    url: str | None
    source: str | None
    language: str
    published_at: datetime
    created_at: datetime
    processed_at: datetime | None
    attempts: int
    error: str | None
    extractor: str | None
    claims: list[dict[str, Any]]
    events: list[RecordedEvent]
    links: ArticleLinks
