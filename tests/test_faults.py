"""Faults: a worker killed mid-task, and writers racing on one actor's stream."""

import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from services.articles import service as articles
from services.db import session_scope
from services.eventstore import service as store
from services.models import Article
from services.positions import projector
from services.positions import repository as positions
from tests.conftest import ROOT, _state, wait_for
from tests.factories import T0, ScriptedExtractor, article, claim

SEED = Path(__file__).parent / "fixtures" / "coalition-peacekeeping.txt"


def assert_streams_contiguous() -> None:
    with session_scope() as session:
        streams = {e.stream_id for e in store.read_all(session, after=0, limit=100_000)}
        for stream in streams:
            versions = [e.stream_version for e in store.read_stream(session, stream)]
            assert versions == list(range(1, len(versions) + 1)), stream


def assert_rebuild_equals_live() -> None:
    with session_scope() as session:
        while projector.project_batch(session, 500):
            pass
    with session_scope() as session:
        live = positions.snapshot(session)
    with session_scope() as session:
        projector.rebuild(session, 7)
    with session_scope() as session:
        assert positions.snapshot(session) == live


def test_writers_racing_on_one_actor_lose_nothing(clean_db):
    bodies = {f"race {i}": [claim(stance=("support", "oppose")[i % 2], quote=f"q{i}")] for i in range(16)}
    with session_scope() as session:
        ids = [article(session, T0 + timedelta(hours=i), body=body).id for i, body in enumerate(bodies)]
    extractor = ScriptedExtractor(bodies)
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def work(chunk: list) -> None:
        barrier.wait()
        for article_id in chunk:
            try:
                with session_scope() as session:
                    articles.process(session, article_id, extractor)
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=work, args=(ids[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with session_scope() as session:
        statuses = session.scalars(select(Article.status)).all()
        stream = store.read_stream(session, "actor:russia")
    assert statuses == ["processed"] * 16
    assert len(stream) == 16
    assert len({e.metadata["article_id"] for e in stream}) == 16
    assert_streams_contiguous()
    assert_rebuild_equals_live()


def test_a_worker_killed_mid_task_loses_and_doubles_nothing(clean_db, worker):
    base = SEED.read_text(encoding="utf-8")
    total = 24
    with session_scope() as session:
        for i in range(total):
            articles.ingest(
                session,
                [
                    articles_in(
                        f"Update {i}: officials spoke again on day {i}.\n{base}",
                        T0 + timedelta(days=i),
                    )
                ],
                min_chars=10,
            )
    beat = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workers.app:celery_app",
            "beat",
            "--loglevel",
            "WARNING",
            "--schedule",
            str(_state["home"] / "beat-schedule"),
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: count_status("processed") >= 2, timeout=60, message="some articles processed")
        worker.kill()
        interrupted = total - count_status("processed")
        assert interrupted > 0, "the worker finished everything before it could be killed"
        worker.start()
        wait_for(
            lambda: count_status("processed") == total, timeout=120, interval=0.5, message="all processed"
        )
    finally:
        beat.terminate()
        beat.wait()
    with session_scope() as session:
        rows = session.scalars(select(Article)).all()
        for row in rows:
            events = store.read_by_article(session, str(row.id))
            assert row.events_appended == len(events) > 0
    assert_streams_contiguous()
    assert_rebuild_equals_live()


def articles_in(body: str, published_at):
    from services.articles.schemas import ArticleIn

    return ArticleIn(body=body, published_at=published_at)


def count_status(status: str) -> int:
    with session_scope() as session:
        return len(session.scalars(select(Article.id).where(Article.status == status)).all())
