"""Ingest articles and turn them into stance events."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from services import queue
from services.articles import chunking, repository, skips
from services.articles.schemas import ArticleIn
from services.articles.text import UnreadableText, check_english, clean_text, content_hash
from services.extraction.domain import load_domain_pack
from services.extraction.schemas import ArticleText, DomainPack
from services.extraction.service import Extractor
from services.models import Article
from services.settings import get_settings
from services.stances import service as stances

EXTRACT_TASK = "articles.extract"
PROJECT_TASK = "projections.run"
FUTURE_TOLERANCE = timedelta(days=1)
DEFAULT_PIECE_CHARS = 20_000


@dataclass(frozen=True)
class IngestResult:
    article: Article
    created: bool


class InvalidArticle(ValueError):
    def __init__(self, message: str, index: int | None = None) -> None:
        super().__init__(message if index is None else f"articles[{index}]: {message}")


def prepare(article: ArticleIn, min_chars: int, now: datetime) -> dict[str, Any]:
    """Validate one article and return the row to store; raises InvalidArticle."""
    if article.language and article.language.lower().split("-")[0] != "en":
        raise InvalidArticle(f"language {article.language!r} is not read; only English (`en`) is.")
    try:
        body = clean_text(article.body)
        check_english(body, min_chars)
    except UnreadableText as exc:
        raise InvalidArticle(str(exc)) from exc
    inferred = article.published_at is None
    published_at = article.published_at or now
    if published_at.tzinfo is None:
        published_at = published_at.replace(tzinfo=UTC)
    if published_at > now + FUTURE_TOLERANCE:
        raise InvalidArticle("published_at is in the future.")
    return {
        "url": str(article.url) if article.url else None,
        "title": article.title,
        "source": article.source,
        "language": "en",
        "body": body,
        "content_hash": content_hash(body),
        "published_at": published_at,
        "published_at_inferred": inferred,
        "published_at_fallback": article.published_at_fallback if inferred else None,
    }


def ingest(
    session: Session, articles: Sequence[ArticleIn], min_chars: int, idempotency_key: str | None = None
) -> list[IngestResult]:
    """Store new articles and enqueue their extraction after commit; duplicates come back as they are.

    Every article is validated before any is stored, so a bad one in a batch stores nothing.
    """
    now = datetime.now(UTC)
    rows = []
    for index, submitted in enumerate(articles):
        try:
            rows.append(prepare(submitted, min_chars, now))
        except InvalidArticle as exc:
            raise InvalidArticle(str(exc), index if len(articles) > 1 else None) from exc
    for offset, row in enumerate(rows):
        row["id"] = uuid.uuid4()
        row["status"] = "pending"
        row["idempotency_key"] = (
            f"{idempotency_key}#{offset}" if idempotency_key and len(rows) > 1 else idempotency_key
        )
    inserted = {article.id: article for article in repository.insert_new(session, rows)}
    duplicates = [row for row in rows if row["id"] not in inserted]
    known = repository.find_duplicates(session, duplicates) if duplicates else []
    results = []
    for row in rows:
        article = inserted.get(row["id"])
        if article is not None:
            results.append(IngestResult(article, created=True))
            continue
        original = next((a for a in known if _same_article(a, row)), None)
        if original is None:  # the conflicting row vanished under us; nothing here deletes
            raise RuntimeError("duplicate article vanished")
        results.append(IngestResult(original, created=False))
    queue.enqueue_many(session, [(EXTRACT_TASK, (str(r.article.id),), None) for r in results if r.created])
    return results


def _same_article(article: Article, row: dict[str, Any]) -> bool:
    return (
        article.content_hash == row["content_hash"]
        or (row["url"] is not None and article.url == row["url"])
        or (row["idempotency_key"] is not None and article.idempotency_key == row["idempotency_key"])
    )


def start_processing(session: Session, article_id: uuid.UUID) -> int | None:
    return repository.mark_processing(session, article_id)


def process(
    session: Session,
    article_id: uuid.UUID,
    extractor: Extractor,
    piece_chars: int = DEFAULT_PIECE_CHARS,
    max_chars: int | None = None,
) -> Article | None:
    """Extract the article's claims and append their events, unless it was done before.

    The row lock makes a second worker on the same article wait, then find it processed.
    A body over `max_chars` is not read at all (skipped, with the reason); a long one is read in
    pieces of `piece_chars`, so the time and memory one article takes are bounded.
    """
    article = repository.get_for_update(session, article_id)
    if article is None or article.status in ("processed", "skipped"):
        return None
    if max_chars is not None and len(article.body) > max_chars:
        return _skip(
            session, article, f"The body has {len(article.body)} characters; at most {max_chars} are read."
        )
    claims = chunking.extract_in_pieces(
        extractor,
        ArticleText(body=article.body, title=article.title, published_at=article.published_at),
        piece_chars,
    )
    extractor_name = f"{extractor.name}/{extractor.version}"
    appended = stances.record_claims(session, article, claims, extractor_name) if claims else 0
    article.claims = [claim.model_dump(mode="json") for claim in claims]
    article.events_appended = appended
    article.extractor = extractor_name
    article.status = "processed" if claims else "skipped"
    skip = None if claims else skips.why_skipped(article.body, _pack_of(extractor))
    article.skip_reason = skip.reason if skip else None
    article.error = skip.detail if skip else None
    article.processed_at = datetime.now(UTC)
    article.updated_at = article.processed_at
    session.flush()
    if appended:
        queue.enqueue(session, PROJECT_TASK)
    return article


def _pack_of(extractor: Extractor) -> DomainPack:
    """The domain pack the extractor reads with; the configured one for extractors without it."""
    pack = getattr(extractor, "pack", None)
    return pack if isinstance(pack, DomainPack) else load_domain_pack(get_settings().domain_pack)


def _skip(session: Session, article: Article, reason: str) -> Article:
    article.claims = []
    article.events_appended = 0
    article.status = "skipped"
    article.skip_reason = "too_long"
    article.error = reason
    article.processed_at = datetime.now(UTC)
    article.updated_at = article.processed_at
    session.flush()
    return article


def mark_failed(session: Session, article_id: uuid.UUID, error: str) -> None:
    article = repository.get_for_update(session, article_id)
    if article is not None and article.status not in ("processed", "skipped"):
        article.status = "failed"
        article.error = error[:2000]
        article.updated_at = datetime.now(UTC)
        session.flush()


def requeue_stuck(session: Session, older_than_seconds: float) -> int:
    """Re-enqueue articles left pending or processing, e.g. when a broker message was lost."""
    ids = repository.stuck_ids(session, datetime.now(UTC) - timedelta(seconds=older_than_seconds))
    if ids:
        repository.touch(session, ids)
        queue.enqueue_many(session, [(EXTRACT_TASK, (str(article_id),), None) for article_id in ids])
    return len(ids)
