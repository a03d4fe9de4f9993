"""Redis restarted under load: PostgreSQL is the source of truth, so no article is lost or doubled."""

import os
import signal
import subprocess
import sys
import uuid
from datetime import timedelta

import httpx
from sqlalchemy import select

from services.db import session_scope
from services.eventstore import service as store
from services.models import Article
from services.runtime.embedded import free_port, start_redis
from tests.conftest import ROOT, _state, wait_for
from tests.factories import T0

BODY = (
    "Update {n}: the Kremlin said on Monday that Russia {verb} the proposed ceasefire, "
    "according to a statement released by officials in Moscow after talks with Washington."
)


def spawn(args: list[str], env: dict[str, str], log_name: str) -> subprocess.Popen[bytes]:
    log = open(_state["home"] / log_name, "ab")  # noqa: SIM115 - handed to the child
    return subprocess.Popen(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def processed() -> int:
    with session_scope() as session:
        return len(session.scalars(select(Article.id).where(Article.status == "processed")).all())


def test_articles_posted_around_a_redis_restart_are_each_processed_once(make_key):
    key = make_key("ingest", "read")
    home = _state["home"] / f"redis-{uuid.uuid4().hex[:6]}"
    port = free_port()
    redis = start_redis(home, port)
    api_port = free_port()
    env = {
        **os.environ,
        "STANCE_REDIS_URL": redis.url,
        "STANCE_QUEUE": f"restart-{uuid.uuid4().hex[:6]}",
        "STANCE_PORT": str(api_port),
        "STANCE_WORKER_METRICS_PORT": "0",
    }
    api = spawn(["services.cli", "api"], env, "restart-api.log")
    worker = spawn(
        [
            "celery",
            "-A",
            "workers.app:celery_app",
            "worker",
            "--concurrency",
            "2",
            "--queues",
            env["STANCE_QUEUE"],
        ],
        env,
        "restart-worker.log",
    )
    beat = spawn(
        ["celery", "-A", "workers.app:celery_app", "beat", "--schedule", str(home / "beat-schedule")],
        env,
        "restart-beat.log",
    )
    http = httpx.Client(base_url=f"http://127.0.0.1:{api_port}", headers={"Authorization": f"Bearer {key}"})
    posted: list[str] = []

    def post(n: int) -> None:
        verb = ("rejects", "accepts")[n % 2]
        response = http.post(
            "/v1/articles",
            json={"body": BODY.format(n=n, verb=verb), "published_at": (T0 + timedelta(hours=n)).isoformat()},
        )
        assert response.status_code == 202, response.text
        posted.append(response.json()["id"])

    try:
        wait_for(lambda: _answers(http), timeout=60, message="the API")
        for n in range(8):
            post(n)
        redis.stop()  # the broker goes away with messages queued and in flight
        for n in range(8, 16):
            post(n)  # still accepted: the article is committed; its message is re-sent later
        redis = start_redis(home, port)
        wait_for(lambda: processed() == 16, timeout=120, interval=0.5, message="all 16 articles processed")
    finally:
        for process in (beat, worker, api):
            stop(process)
        redis.stop()
        http.close()
    with session_scope() as session:
        rows = session.scalars(select(Article)).all()
        assert sorted(str(r.id) for r in rows) == sorted(posted)
        russia_events = 0
        for row in rows:
            assert row.status == "processed"
            events = store.read_by_article(session, str(row.id))
            assert row.events_appended == len(events) >= 1
            claims = [(e.stream_id, e.data["topic"], e.data["stance"]) for e in events]
            assert len(claims) == len(set(claims)), "an article's claim was appended twice"
            assert ("actor:russia", "ceasefire") in {(s, t) for s, t, _ in claims}
            russia_events += sum(1 for e in events if e.stream_id == "actor:russia")
        versions = [e.stream_version for e in store.read_stream(session, "actor:russia")]
    assert versions == list(range(1, russia_events + 1))


def _answers(http: httpx.Client) -> bool:
    try:
        return http.get("/healthz").status_code == 200
    except httpx.HTTPError:
        return False
