"""Thin task wrappers: each opens a unit of work and calls a service. Arguments are ids only."""

import uuid

from celery import Task
from celery.exceptions import SoftTimeLimitExceeded

from services.articles import service as articles
from services.db import session_scope
from services.extraction.service import get_extractor
from services.logging import get_logger
from services.positions import projector
from services.settings import get_settings
from workers.app import celery_app

log = get_logger(__name__)


_TIME_LIMIT = get_settings().extraction_time_limit_seconds


# The soft limit raises inside the task so it can record why; the hard one ends a pool process
# stuck where the soft one cannot reach (in C code), and the message is then redelivered.
@celery_app.task(
    name="articles.extract",
    bind=True,
    acks_late=True,
    max_retries=None,
    soft_time_limit=_TIME_LIMIT,
    time_limit=_TIME_LIMIT + 30,
)
def extract_article(self: Task, article_id: str) -> None:
    settings = get_settings()
    key = uuid.UUID(article_id)
    with session_scope() as session:
        attempt = articles.start_processing(session, key)
    if attempt is None:
        return
    try:
        with session_scope() as session:
            articles.process(
                session,
                key,
                get_extractor(settings.domain_pack),
                settings.extraction_piece_chars,
                settings.extraction_max_chars,
            )
    except SoftTimeLimitExceeded:
        # Another attempt would run out of time the same way.
        log.error("article took too long", article_id=article_id, seconds=_TIME_LIMIT)
        with session_scope() as session:
            articles.mark_failed(session, key, f"Extraction took longer than {_TIME_LIMIT:g} s.")
        return
    except Exception as exc:
        if attempt >= settings.extraction_max_attempts:
            log.exception("article failed", article_id=article_id, attempt=attempt)
            with session_scope() as session:
                articles.mark_failed(session, key, f"{type(exc).__name__}: {exc}")
            return
        log.warning(
            "article attempt failed; retrying", article_id=article_id, attempt=attempt, error=str(exc)
        )
        raise self.retry(exc=exc, countdown=min(60, 2**attempt)) from exc


@celery_app.task(name="articles.requeue_stuck", acks_late=True)
def requeue_stuck_articles() -> int:
    with session_scope() as session:
        return articles.requeue_stuck(session, get_settings().stuck_article_seconds)


@celery_app.task(name="projections.run", acks_late=True)
def run_projector() -> int:
    batch_size = get_settings().projector_batch_size
    total = 0
    while True:
        with session_scope() as session:
            count = projector.project_batch(session, batch_size)
        total += count
        if count < batch_size:
            return total
