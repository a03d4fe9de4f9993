"""The broker frozen, and a worker's main process killed: ingest never waits on Redis, and work the
dead worker had taken is done within seconds, each article once.

Each test runs its own Redis (or its own queue) and its own API and worker processes, which it
stops or kills; the machine's shared servers are never touched.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from services.db import session_scope
from services.eventstore import service as store
from services.models import Article, TaskMessage
from services.runtime.embedded import start_redis
from tests.conftest import ROOT, _state, wait_for
from tests.factories import T0
from tests.private_servers import ApiProcess

BODY = (
    "Update {n}: the Kremlin said on Monday that Russia {verb} the proposed ceasefire, "
    "according to a statement released by officials in Moscow after talks with Washington."
)


class Worker:
    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = {**os.environ, **env, "STANCE_WORKER_METRICS_PORT": "0"}
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90) -> None:
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "workers.app:celery_app",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                "2",
                "--queues",
                self.env["STANCE_QUEUE"],
                "--without-gossip",
                "--without-mingle",
                "--hostname",
                f"fault-{uuid.uuid4().hex[:6]}@%h",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(
            lambda: self.process.poll() is not None or b" ready." in self.log_path.read_bytes()[offset:],
            timeout=timeout,
            interval=0.2,
            message="the worker",
        )
        assert self.process.poll() is None, self.log_path.read_text()[-3000:]

    def kill_main(self) -> None:
        """SIGKILL the worker's main process only, as an OOM kill of the parent would."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):  # the group: orphaned pool processes too
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def count(status: str | None = None) -> int:
    with session_scope() as session:
        query = select(func.count()).select_from(Article)
        if status is not None:
            query = query.where(Article.status == status)
        return session.scalar(query) or 0


def outbox_rows(task: str | None = None) -> int:
    with session_scope() as session:
        query = select(func.count()).select_from(TaskMessage)
        if task is not None:
            query = query.where(TaskMessage.task == task)
        return session.scalar(query) or 0


def assert_each_processed_once(posted: list[str]) -> None:
    with session_scope() as session:
        rows = session.scalars(select(Article)).all()
        assert sorted(str(r.id) for r in rows) == sorted(posted)
        for row in rows:
            assert row.status == "processed", (row.id, row.status, row.error)
            # However many claims the extractor reads in one article, each was appended once.
            events = store.read_by_article(session, str(row.id))
            assert row.events_appended == len(events) >= 1
            claims = [(e.stream_id, e.data["topic"], e.data["stance"]) for e in events]
            assert len(claims) == len(set(claims)), "an article's claim was appended twice"
        streams = {e.stream_id for e in store.read_all(session, after=0, limit=100_000)}
        for stream in streams:
            versions = [e.stream_version for e in store.read_stream(session, stream)]
            assert versions == list(range(1, len(versions) + 1)), stream


@pytest.fixture
def stack(make_key):
    """An API and a worker on a Redis and a queue of this test's own."""
    home = _state["home"] / f"broker-{uuid.uuid4().hex[:6]}"
    redis = start_redis(home)
    env = {"STANCE_REDIS_URL": redis.url, "STANCE_QUEUE": f"fault-{uuid.uuid4().hex[:6]}"}
    api = ApiProcess(env, home / "api.log")
    worker = Worker(env, home / "worker.log")
    key = make_key("ingest", "read")
    try:
        api.start()
        worker.start()
        http = httpx.Client(base_url=api.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
        yield redis, api, worker, http
        http.close()
    finally:
        worker.stop()
        api.stop()
        with contextlib.suppress(ProcessLookupError):
            os.kill(redis.process.pid, signal.SIGCONT)
        redis.stop()


def post(http: httpx.Client, n: int) -> tuple[str, float]:
    started = time.monotonic()
    response = http.post(
        "/v1/articles",
        json={
            "body": BODY.format(n=n, verb=("rejects", "accepts")[n % 2]),
            "published_at": (T0 + timedelta(hours=n)).isoformat(),
        },
    )
    elapsed = time.monotonic() - started
    assert response.status_code == 202, response.text
    return response.json()["id"], elapsed


def test_a_frozen_redis_holds_up_no_ingest_and_the_work_follows_its_return(stack):
    redis, _, _, http = stack
    posted = [post(http, n)[0] for n in range(4)]
    wait_for(lambda: count("processed") == 4, timeout=60, message="the first articles processed")

    os.kill(redis.process.pid, signal.SIGSTOP)  # frozen: connections open, nothing answers
    latencies = []
    for n in range(4, 12):
        article_id, elapsed = post(http, n)
        posted.append(article_id)
        latencies.append(elapsed)
    # The messages wait in the outbox, committed with their articles (beside, maybe, the worker's
    # own projector wake-ups from the first four).
    wait_for(lambda: outbox_rows("articles.extract") == 8, timeout=10, message="eight in the outbox")
    assert count("processed") == 4

    os.kill(redis.process.pid, signal.SIGCONT)
    returned = time.monotonic()
    wait_for(lambda: count("processed") == 12, timeout=5, interval=0.05, message="processed after the return")
    recovery = time.monotonic() - returned
    print(
        f"ingest while Redis was frozen: max {max(latencies) * 1000:.0f} ms; processed {recovery:.2f}s after"
    )
    assert max(latencies) < 0.2, latencies
    wait_for(lambda: outbox_rows() == 0, timeout=5, message="the outbox drained")
    assert_each_processed_once(posted)


def test_work_a_killed_worker_had_taken_is_done_within_30_seconds(stack):
    _, _, worker, http = stack
    # A second worker is already running, as in any deployment of more than one: what is measured
    # is how soon the dead worker's unacknowledged messages reach it, not how fast a worker boots
    # on a busy machine. Each worker runs two and prefetches eight (concurrency 2, multiplier 4).
    survivor = Worker(worker.env, worker.log_path)
    survivor.start()
    try:
        total = 12
        posted = [post(http, n)[0] for n in range(total)]
        wait_for(lambda: count("processed") >= 2, timeout=60, message="some articles processed")
        worker.kill_main()
        killed = time.monotonic()
        interrupted = total - count("processed")
        assert interrupted > 0, "the workers finished everything before one could be killed"
        wait_for(
            lambda: count("processed") == total,
            timeout=max(0.1, 30 - (time.monotonic() - killed)),
            interval=0.2,
            message="all processed within 30 s of the kill",
        )
        print(
            f"{interrupted} unfinished articles all processed {time.monotonic() - killed:.1f}s after the kill"
        )
    finally:
        survivor.stop()
    assert_each_processed_once(posted)
