import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.api.fields import MAX_URL_LENGTH, HttpUrl, UtcDateTime
from services.articles.skips import SkipReason
from services.eventstore.schemas import RecordedEvent

ArticleStatus = Literal["pending", "processing", "processed", "failed", "skipped"]
# What an article without `published_at` may do. `history`: its claims enter the timelines at the
# ingest time, marked as inferred, and never become or move a current position (an archive
# import must not rewrite the present). `ingest_time`: it counts as published when it arrived.
PublishedAtFallback = Literal["history", "ingest_time"]


class ArticleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(description="The article's text (plain text; HTML is accepted as text/html).")
    title: str | None = Field(default=None, max_length=1000)
    url: HttpUrl | None = Field(
        default=None, description=f"http(s), at most {MAX_URL_LENGTH} characters once percent-encoded."
    )
    source: str | None = Field(default=None, max_length=300)
    published_at: UtcDateTime | None = Field(
        default=None,
        description="ISO 8601, between years 1 and 9999 in UTC; a time without a zone is read as UTC. "
        "Defaults to now.",
    )
    language: str | None = Field(default=None, max_length=16, description="Only `en` is read.")
    published_at_fallback: PublishedAtFallback = Field(
        default="history",
        description="Without `published_at`: `history` (default) records the claims in the timelines "
        "only, never as a current position; `ingest_time` treats the article as published on arrival.",
    )

    @field_validator("title", "source", "language")
    @classmethod
    def _strip(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None


class ArticleBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    articles: list[ArticleIn] = Field(
        min_length=1,
        description="At most STANCE_MAX_BATCH_ARTICLES (100); each article, as JSON, at most "
        "STANCE_MAX_ARTICLE_BYTES (200,000 bytes), the limit of one article posted alone.",
    )


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
    published_at_inferred: bool = Field(
        description="True when the client sent no date: `published_at` is the ingest time."
    )
    published_at_fallback: PublishedAtFallback | None = Field(
        description="For an undated article, what its claims may do (see ArticleIn)."
    )
    created_at: datetime
    processed_at: datetime | None
    attempts: int
    skip_reason: SkipReason | None = Field(
        description="Why a `skipped` article gave no claim: not_english, no_actors, no_stance or too_long."
    )
    error: str | None = Field(description="Why it failed or, for a skipped article, the reason in words.")
    extractor: str | None
    claims: list[dict[str, Any]]
    events: list[RecordedEvent]
    links: ArticleLinks
