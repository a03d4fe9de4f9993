"""PostgreSQL killed under a running API: 503 problem+json with Retry-After, then 200 again, no restart."""

import time
import uuid

import httpx
import pytest
from sqlalchemy import create_engine, text

from services.auth.service import create_key
from services.migrate import upgrade
from tests.conftest import _state, wait_for
from tests.private_servers import ApiProcess, PrivatePostgres

BODY = (
    "Update {n}: the Kremlin said on Monday that Russia rejects the proposed ceasefire, "
    "according to a statement released by officials in Moscow after talks with Washington."
)


@pytest.fixture
def private_postgres():
    server = PrivatePostgres()
    server.start()
    yield server
    server.destroy()


def _key(url: str) -> str:
    from sqlalchemy.orm import Session

    engine = create_engine(url)
    with Session(engine) as session:
        key = create_key(session, ["ingest", "read", "admin"], "fault test").key
        session.commit()
    engine.dispose()
    return key


def _articles(url: str) -> list[str]:
    engine = create_engine(url)
    with engine.connect() as connection:
        bodies = [row[0] for row in connection.execute(text("SELECT body FROM articles ORDER BY body"))]
    engine.dispose()
    return bodies


def test_a_killed_database_is_a_503_and_the_api_recovers_when_it_returns(private_postgres):
    url = private_postgres.create_database("stance")
    upgrade(url)
    key = _key(url)
    api = ApiProcess(
        {
            "STANCE_DATABASE_URL": url,
            "STANCE_QUEUE": f"pgdown-{uuid.uuid4().hex[:6]}",
            "STANCE_READ_CACHE_SECONDS": "0.05",  # the checkpoint watcher must survive it too
        },
        _state["home"] / "pgdown-api.log",
    )
    api.start()
    http = httpx.Client(base_url=api.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=15)
    try:
        assert http.get("/v1/positions").status_code == 200
        assert http.post("/v1/articles", json={"body": BODY.format(n=1)}).status_code == 202

        private_postgres.kill()
        # Reads answered from the response cache may still be served until the checkpoint watcher
        # notices (it polls every 0.05 s); after that the database is needed.
        wait_for(lambda: http.get("/v1/positions").status_code == 503, timeout=5, message="a 503")
        for method, path, body in (
            ("GET", "/v1/positions", None),
            ("GET", "/v1/actors", None),
            ("GET", f"/v1/articles/{uuid.uuid4()}", None),
            ("POST", "/v1/articles", {"body": BODY.format(n=2)}),
            ("GET", "/v1/subscriptions", None),
            ("GET", "/readyz", None),
        ):
            started = time.monotonic()
            response = http.request(method, path, json=body)
            elapsed = time.monotonic() - started
            assert response.status_code == 503, (path, response.status_code, response.text[:300])
            assert response.headers["content-type"].startswith("application/problem+json"), path
            assert int(response.headers["retry-after"]) > 0, path
            assert response.json()["status"] == 503
            assert elapsed < 7, (path, elapsed)
        assert http.get("/healthz").status_code == 200  # the process itself is fine

        private_postgres.start()
        started = time.monotonic()
        wait_for(lambda: http.get("/v1/positions").status_code == 200, timeout=15, message="reads again")
        recovered = time.monotonic() - started
        response = http.post("/v1/articles", json={"body": BODY.format(n=3)})
        assert response.status_code == 202, response.text
        assert http.get("/readyz").status_code == 200
        print(f"recovered {recovered:.2f}s after the database returned")
    finally:
        http.close()
        api.stop()
    # Nothing lost, nothing doubled, nothing from the refused request.
    assert _articles(url) == sorted([BODY.format(n=1), BODY.format(n=3)])
