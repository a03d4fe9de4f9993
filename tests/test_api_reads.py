"""Reading the ledger: positions, as_of, history, actors, topics, the event feed, pagination."""

from datetime import timedelta

from services.articles import service as articles
from services.db import session_scope
from services.positions import projector
from tests.factories import T0, ScriptedExtractor, article, claim


def build_ledger() -> None:
    with session_scope() as session:
        extractor = ScriptedExtractor(
            {
                "d0": [claim(stance="oppose", quote="Moscow says no.")],
                "d2": [
                    claim(
                        stance="conditional",
                        conditions=["Ukraine renounces NATO"],
                        quote="Only if Kyiv drops NATO.",
                    ),
                    claim(actor="ukraine", stance="support", quote="Kyiv accepts."),
                    claim(
                        actor="france",
                        topic="peacekeeping-force",
                        stance="support",
                        quote="Paris will send troops.",
                    ),
                ],
            }
        )
        for day, body in ((0, "d0"), (2, "d2")):
            row = article(session, T0 + timedelta(days=day), body=body, url=f"https://news.example/{body}")
            articles.process(session, row.id, extractor)
    with session_scope() as session:
        while projector.project_batch(session, 100):
            pass


async def test_positions_filters_as_of_and_pagination(client, auth):
    build_ledger()
    page = (await client.get("/v1/positions", headers=auth)).json()
    assert [(p["actor"], p["topic"], p["stance"]) for p in page["items"]] == [
        ("france", "peacekeeping-force", "support"),
        ("russia", "ceasefire", "conditional"),
        ("ukraine", "ceasefire", "support"),
    ]
    russia = page["items"][1]
    assert russia["conditions"] == ["Ukraine renounces NATO"]
    assert russia["evidence"]["quote"] == "Only if Kyiv drops NATO."
    assert russia["evidence"]["url"] == "https://news.example/d2"
    assert russia["actor_name"] and russia["topic_name"]

    first = (await client.get("/v1/positions?limit=2", headers=auth)).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = (await client.get(f"/v1/positions?limit=2&cursor={first['next_cursor']}", headers=auth)).json()
    assert [p["actor"] for p in rest["items"]] == ["ukraine"] and rest["next_cursor"] is None

    stance = (await client.get("/v1/positions?stance=support&topic=ceasefire", headers=auth)).json()
    assert [p["actor"] for p in stance["items"]] == ["ukraine"]
    past = (await client.get("/v1/positions?actor=russia&as_of=2025-03-02T00:00:00Z", headers=auth)).json()
    assert [p["stance"] for p in past["items"]] == ["oppose"]
    before = (await client.get("/v1/positions?as_of=2025-02-01T00:00:00Z", headers=auth)).json()
    assert before["items"] == []
    bad = await client.get("/v1/positions?stance=maybe", headers=auth)
    assert bad.status_code == 422


async def test_history_actors_topics_and_events(client, auth):
    build_ledger()
    history = (await client.get("/v1/positions/russia/ceasefire/history", headers=auth)).json()
    assert [(s["stance"], s["previous"]) for s in history["items"]] == [
        ("oppose", None),
        ("conditional", "oppose"),
    ]
    assert history["current"]["stance"] == "conditional"
    assert history["items"][0]["evidence"]["quote"] == "Moscow says no."

    actors = (await client.get("/v1/actors", headers=auth)).json()
    by_id = {a["id"]: a for a in actors["items"]}
    assert [p["topic"] for p in by_id["russia"]["positions"]] == ["ceasefire"]
    assert by_id["germany"]["positions"] == []

    topics = (await client.get("/v1/topics", headers=auth)).json()
    ceasefire = next(t for t in topics["items"] if t["id"] == "ceasefire")
    assert [e["actor"] for e in ceasefire["conditional"]] == ["russia"]
    assert [e["actor"] for e in ceasefire["support"]] == ["ukraine"]

    feed = (await client.get("/v1/events?limit=2", headers=auth)).json()
    assert len(feed["items"]) == 2
    more = (await client.get(f"/v1/events?after={feed['next_cursor']}", headers=auth)).json()
    positions = [e["position"] for e in feed["items"] + more["items"]]
    assert positions == sorted(positions) and len(positions) == 4
    typed = (await client.get("/v1/events?type=StanceChanged&actor=russia", headers=auth)).json()
    assert [e["data"]["stance"] for e in typed["items"]] == ["oppose", "conditional"]


async def test_health_and_readiness(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok", "broker": "ok"}
    page = await client.get("/")
    assert page.status_code == 200 and "Stance Tracker" in page.text
    assert (await client.get("/openapi.json")).status_code == 200


async def test_a_full_last_page_carries_no_cursor_on_any_paginated_endpoint(client, auth):
    created = await client.post("/v1/subscriptions", json={"url": "https://hooks.example.com/"}, headers=auth)
    subscription = created.json()["id"]
    await client.post("/v1/subscriptions", json={"url": "https://b.example.com/"}, headers=auth)
    build_ledger()  # 4 events, 3 positions, and a delivery per position change for the first subscription

    async def page(path: str) -> dict:
        response = await client.get(path, headers=auth)
        assert response.status_code == 200, response.text
        return dict(response.json())

    everything = {
        "/v1/events?after=0": len((await page("/v1/events?after=0&limit=1000"))["items"]),
        "/v1/positions?": len((await page("/v1/positions?limit=500"))["items"]),
        "/v1/actors?": len((await page("/v1/actors?limit=500"))["items"]),
        "/v1/subscriptions?": 2,
        f"/v1/subscriptions/{subscription}/deliveries?": len(
            (await page(f"/v1/subscriptions/{subscription}/deliveries?limit=500"))["items"]
        ),
    }
    assert everything["/v1/events?after=0"] == 4 and everything["/v1/positions?"] == 3
    assert everything[f"/v1/subscriptions/{subscription}/deliveries?"] >= 2
    for path, total in everything.items():
        exact = await page(f"{path}&limit={total}")
        assert len(exact["items"]) == total and exact["next_cursor"] is None, path
        short = await page(f"{path}&limit={total - 1}")
        assert len(short["items"]) == total - 1 and short["next_cursor"], path
