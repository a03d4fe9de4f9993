"""The whole path with a real Celery worker: post an article, read the positions it produced."""

import asyncio
import time
from pathlib import Path

from services.db import session_scope
from services.eventstore import service as store
from tests.conftest import wait_for
from workers.app import celery_app

SEED = Path(__file__).parent / "fixtures" / "coalition-peacekeeping.txt"


async def get_json(client, path, auth):
    response = await client.get(path, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


async def wait_async(predicate, timeout=60.0, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


async def test_seed_article_yields_russia_conditional_and_ukraine_support(client, auth, worker):
    body = SEED.read_text(encoding="utf-8")
    response = await client.post(
        "/v1/articles",
        json={
            "body": body,
            "title": "Military chiefs to discuss peacekeeping plans",
            "url": "https://news.example/coalition-peacekeeping",
            "source": "Example News",
            "published_at": "2025-03-16T09:00:00Z",
        },
        headers=auth,
    )
    assert response.status_code == 202, response.text
    article_id = response.json()["id"]

    async def processed():
        detail = await get_json(client, f"/v1/articles/{article_id}", auth)
        return detail if detail["status"] == "processed" else None

    detail = await wait_async(processed, message="the article to be processed")
    assert detail["events"], "processing appended no events"
    assert {e["type"] for e in detail["events"]} == {"StanceChanged"}

    async def russia_position():
        page = await get_json(client, "/v1/positions?actor=russia&topic=ceasefire", auth)
        return page["items"]

    (russia,) = await wait_async(russia_position, message="the projector to show russia/ceasefire")
    assert russia["stance"] == "conditional"
    conditions = " ".join(russia["conditions"]).lower()
    assert "nato" in conditions
    assert "territor" in conditions or "cede" in conditions
    assert russia["evidence"]["quote"] in body
    assert russia["evidence"]["article_id"] == article_id
    assert russia["since"] == "2025-03-16T09:00:00Z"

    page = await get_json(client, "/v1/positions?actor=ukraine&topic=ceasefire", auth)
    assert [p["stance"] for p in page["items"]] == ["support"]
    assert page["items"][0]["evidence"]["quote"] in body

    history = await get_json(client, "/v1/positions/russia/ceasefire/history", auth)
    assert [step["kind"] for step in history["items"]] == ["StanceChanged"]
    topics = await get_json(client, "/v1/topics", auth)
    ceasefire = next(t for t in topics["items"] if t["id"] == "ceasefire")
    assert "russia" in [entry["actor"] for entry in ceasefire["conditional"]]
    actor = await get_json(client, "/v1/actors/russia", auth)
    assert "ceasefire" in [p["topic"] for p in actor["positions"]]
    events = await get_json(client, "/v1/events?actor=russia&limit=1", auth)
    assert len(events["items"]) == 1  # whether a cursor follows depends on how many events Russia has

    # Posting the same article again creates nothing, and the worker appends nothing more.
    again = await client.post("/v1/articles", json={"body": body}, headers=auth)
    assert again.status_code == 200 and again.json()["id"] == article_id
    with session_scope() as session:
        count = len(store.read_all(session, after=0))
    # A negative: wait until the worker has finished both tasks, then count again.
    for task in (
        celery_app.send_task("articles.extract", args=(article_id,)),
        celery_app.send_task("projections.run"),
    ):
        wait_for(
            lambda task=task: f"[{task.id}] succeeded" in worker.log_path.read_text(errors="replace"),
            timeout=60,
            message=f"the worker to finish {task.id}",
        )
    with session_scope() as session:
        assert len(store.read_all(session, after=0)) == count
    assert (await get_json(client, f"/v1/articles/{article_id}", auth))["status"] == "processed"
