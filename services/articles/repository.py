import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from services.models import Article


def insert_new(session: Session, rows: Sequence[dict[str, Any]]) -> list[Article]:
    """Insert the rows that are new; a row whose url, text or idempotency key exists is skipped."""
    statement = insert(Article).on_conflict_do_nothing().returning(Article)
    return list(session.scalars(statement, list(rows)))


def find_duplicates(session: Session, rows: Sequence[dict[str, Any]]) -> list[Article]:
    urls = [row["url"] for row in rows if row["url"]]
    keys = [row["idempotency_key"] for row in rows if row["idempotency_key"]]
    matches = [Article.content_hash.in_([row["content_hash"] for row in rows])]
    if urls:
        matches.append(Article.url.in_(urls))
    if keys:
        matches.append(Article.idempotency_key.in_(keys))
    return list(session.scalars(select(Article).where(or_(*matches))))


def get(session: Session, article_id: uuid.UUID) -> Article | None:
    return session.get(Article, article_id)


def get_for_update(session: Session, article_id: uuid.UUID) -> Article | None:
    return session.scalars(select(Article).where(Article.id == article_id).with_for_update()).first()


def mark_processing(session: Session, article_id: uuid.UUID) -> int | None:
    """Count an attempt and show it as processing, unless the article is already done."""
    result = session.execute(
        update(Article)
        .where(Article.id == article_id, Article.status.in_(("pending", "processing", "failed")))
        .values(status="processing", attempts=Article.attempts + 1, updated_at=func.now())
        .returning(Article.attempts)
    )
    return result.scalar_one_or_none()


def stuck_ids(session: Session, older_than: datetime, limit: int = 500) -> Sequence[uuid.UUID]:
    return session.scalars(
        select(Article.id)
        .where(Article.status.in_(("pending", "processing")), Article.updated_at < older_than)
        .order_by(Article.updated_at)
        .limit(limit)
    ).all()


def touch(session: Session, ids: Sequence[uuid.UUID]) -> None:
    session.execute(update(Article).where(Article.id.in_(ids)).values(updated_at=func.now()))
