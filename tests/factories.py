"""Plain factory functions for test data."""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from services.eventstore.schemas import NewEvent
from services.extraction.schemas import ArticleText, Claim
from services.models import Article

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def new_event(index: int = 0, type_: str = "Tested", **data: Any) -> NewEvent:
    return NewEvent(
        type=type_,
        data={"index": index, **data},
        metadata={"test": True},
        causation_id=f"test:{uuid.uuid4()}",
        occurred_at=T0,
    )


def claim(
    actor: str = "russia",
    topic: str = "ceasefire",
    stance: str = "support",
    quote: str = "Moscow accepts the ceasefire.",
    conditions: Sequence[str] = (),
    confidence: float = 0.9,
) -> Claim:
    return Claim(
        actor=actor,
        topic=topic,
        stance=stance,  # type: ignore[arg-type]
        conditions=list(conditions),
        summary=f"{actor}: {topic} {stance}",
        speaker=None,
        quote=quote,
        start=0,
        end=len(quote),
        confidence=confidence,
    )


def article(session: Session, published_at: datetime = T0, body: str | None = None, **values: Any) -> Article:
    text = body or f"Article {uuid.uuid4()} about the war and the talks."
    row = Article(
        id=uuid.uuid4(),
        body=text,
        content_hash=uuid.uuid4().hex,
        published_at=published_at,
        status="pending",
        attempts=0,
        language="en",
        **values,
    )
    session.add(row)
    session.flush()
    return row


class ScriptedExtractor:
    """An extractor whose claims the test names, for testing the ledger rather than the NLP."""

    name = "scripted"
    version = "1"

    def __init__(self, claims_by_body: dict[str, list[Claim]]) -> None:
        self.claims_by_body = claims_by_body
        self.calls = 0

    def extract(self, article: ArticleText) -> list[Claim]:
        self.calls += 1
        return self.claims_by_body.get(article.body, [])

    def extract_many(self, articles: Sequence[ArticleText]) -> list[list[Claim]]:
        return [self.extract(a) for a in articles]
