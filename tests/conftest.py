"""Test infrastructure: a real PostgreSQL database built by migrations, a real Redis, real workers.

The machine's PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) are used when they answer;
otherwise the embedded ones of `stance run` are started under a temporary state directory.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
RUN_ID = uuid.uuid4().hex[:8]
_state: dict[str, Any] = {}


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _with_database(url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=name).render_as_string(hide_password=False)


def pytest_configure(config: pytest.Config) -> None:
    # STANCE_TEST_EMBEDDED=1 runs on the embedded servers even when the machine's answer.
    force_embedded = os.environ.get("STANCE_TEST_EMBEDDED") == "1"
    home = Path(tempfile.mkdtemp(prefix="stance-test-"))
    _state["home"] = home
    admin_url = os.environ.get("STANCE_TEST_ADMIN_DATABASE_URL")
    if not admin_url:
        if _port_open(5432) and not force_embedded:
            admin_url = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        else:
            from services.runtime.embedded import start_postgres

            admin_url = start_postgres(home)
    redis_url = os.environ.get("STANCE_TEST_REDIS_URL")
    if not redis_url:
        if _port_open(6379) and not force_embedded:
            redis_url = "redis://127.0.0.1:6379/0"
        else:
            from services.runtime.embedded import start_redis

            _state["redis"] = start_redis(home)
            redis_url = _state["redis"].url
    database = f"stance_test_{RUN_ID}"
    with psycopg.connect(_libpq(admin_url), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{database}"')
    url = _with_database(admin_url, database)
    _state.update(admin_url=admin_url, database=database, url=url, redis_url=redis_url)
    os.environ.update(
        {
            "STANCE_DATABASE_URL": url,
            "STANCE_REDIS_URL": redis_url,
            "STANCE_HOME": str(home),
            "STANCE_QUEUE": f"stance-test-{RUN_ID}",
            "STANCE_PROJECTOR_INTERVAL_SECONDS": "1",
            "STANCE_STUCK_ARTICLE_SECONDS": "5",
            "STANCE_READ_CACHE_SECONDS": "0",
            "STANCE_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "STANCE_WEBHOOK_RETRY_SCHEDULE": "0.5,0.5,0.5,0.5",
            "STANCE_WEBHOOK_TIMEOUT_SECONDS": "2",
        }
    )
    from services.migrate import upgrade

    upgrade(url)


def pytest_unconfigure(config: pytest.Config) -> None:
    if "database" in _state:
        from services.db import get_engine
        from services.queue import relay

        relay.stop()  # its polling would only find the database gone
        get_engine().dispose()
        with psycopg.connect(_libpq(_state["admin_url"]), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{_state["database"]}" WITH (FORCE)')
    if "redis" in _state:
        _state["redis"].stop()
    if "home" in _state:
        from services.runtime.embedded import stop_postgres

        stop_postgres(_state["home"])
    shutil.rmtree(_state.get("home", "/nonexistent"), ignore_errors=True)


@pytest.fixture(scope="session")
def infra() -> dict[str, Any]:
    return _state


def truncate_all() -> None:
    from sqlalchemy.exc import OperationalError

    from services.db import get_engine
    from services.models import Base

    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    # A worker still finishing the previous test's work can deadlock with TRUNCATE; try again.
    for attempt in range(5):
        try:
            with get_engine().begin() as connection:
                connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
                connection.exec_driver_sql("SET LOCAL lock_timeout = '5s'")
                connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
            return
        except OperationalError:
            if attempt == 4:
                raise
            time.sleep(0.5)


@pytest.fixture
def clean_db() -> Iterator[None]:
    """Tables emptied before the test: for tests whose work commits (workers, HTTP, concurrency)."""
    truncate_all()
    yield


@pytest.fixture
def db_session(clean_db: None) -> Iterator[Any]:
    """A session inside a transaction rolled back after the test; its commits are savepoints."""
    from sqlalchemy.orm import Session

    from services.db import get_engine

    connection = get_engine().connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()


@pytest.fixture
def make_key(clean_db: None) -> Any:
    from services.auth.service import create_key
    from services.db import session_scope

    def make(*scopes: str) -> str:
        with session_scope() as session:
            return create_key(session, list(scopes) or ["ingest", "read", "admin"], "test").key  # type: ignore[arg-type]

    return make


@pytest.fixture
async def client() -> AsyncIterator[Any]:
    import httpx

    from services.api.app import app

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://stance.test") as http:
        yield http


@pytest.fixture
def auth(make_key: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_key('ingest', 'read', 'admin')}"}


class WorkerProcess:
    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.metrics_dir = log_path.parent / "worker-metrics"
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.metrics_port = int(probe.getsockname()[1])

    def start(self, timeout: float = 90, concurrency: int = 2) -> None:
        self.metrics_dir.mkdir(exist_ok=True)
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
                str(concurrency),
                "--queues",
                os.environ["STANCE_QUEUE"],
                "--without-gossip",
                "--without-mingle",
                "--hostname",
                f"test-{RUN_ID}-{uuid.uuid4().hex[:4]}@%h",
            ],
            cwd=ROOT,
            env={
                **os.environ,
                "PROMETHEUS_MULTIPROC_DIR": str(self.metrics_dir),
                "STANCE_WORKER_METRICS_PORT": str(self.metrics_port),
            },
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited: {self.log_path.read_text()[-3000:]}")
            if b" ready." in self.log_path.read_bytes()[max(0, offset - 2000) :]:
                return
            time.sleep(0.2)
        raise RuntimeError(f"worker not ready in {timeout}s: {self.log_path.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the whole worker (parent and pool), as a crash would."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, 9)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture(scope="session")
def worker() -> Iterator[WorkerProcess]:
    """A real Celery worker process consuming this run's queue."""
    process = WorkerProcess(_state["home"] / "worker.log")
    process.start()
    yield process
    process.stop()


def wait_for(predicate: Any, timeout: float = 30, interval: float = 0.1, message: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


@pytest.fixture
def server() -> Iterator[str]:
    """The real app over real HTTP on loopback (for a browser, or curl); yields its base URL."""
    import threading

    import uvicorn

    from services.api.app import app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    wait_for(lambda: running.started, timeout=60, message="the API server")
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(30)
