"""Articles without a date, and articles that yield no claim: both say so, and neither misleads.

Rows are made with the ingest service's own `prepare` and processed in this process with
scripted claims, so no worker can race the test to them.
"""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from services.articles import service as articles
from services.articles.schemas import ArticleIn
from services.db import session_scope
from services.models import Article
from services.positions import projector
from tests.factories import T0, ScriptedExtractor, claim

RUSSIA_SAYS_NO = (
    "The Kremlin said on Monday that Moscow would not accept a ceasefire in the war, officials said."
)


def stored(submitted: ArticleIn) -> uuid.UUID:
    row = articles.prepare(submitted, min_chars=40, now=datetime.now(UTC))
    with session_scope() as session:
        article = Article(id=uuid.uuid4(), status="pending", attempts=0, **row)
        session.add(article)
        session.flush()
        return article.id


def process(article_id: uuid.UUID, extractor: ScriptedExtractor) -> None:
    with session_scope() as session:
        articles.process(session, article_id, extractor)
    with session_scope() as session:
        while projector.project_batch(session, 100):
            pass


async def get(client: Any, path: str, auth: dict[str, str]) -> Any:
    response = await client.get(path, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


async def test_an_undated_article_is_marked_inferred_and_never_becomes_the_current_position(client, auth):
    body = f"{RUSSIA_SAYS_NO} Archive item {uuid.uuid4()}."
    undated = stored(ArticleIn(body=body))
    process(undated, ScriptedExtractor({body: [claim(stance="oppose", quote="Moscow would not accept")]}))

    detail = await get(client, f"/v1/articles/{undated}", auth)
    assert detail["published_at_inferred"] is True and detail["published_at_fallback"] == "history"
    assert detail["status"] == "processed" and detail["skip_reason"] is None
    (event,) = detail["events"]
    assert event["type"] == "StanceBackfilled" and event["metadata"]["published_at_inferred"] is True
    assert event["data"]["evidence"]["published_at_inferred"] is True

    # Not current now, not current "as of" its arrival, but in the timeline, marked.
    assert (await get(client, "/v1/positions?actor=russia", auth))["items"] == []
    as_of = (datetime.now(UTC) + timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    assert (await get(client, f"/v1/positions?actor=russia&as_of={as_of}", auth))["items"] == []
    (step,) = (await get(client, "/v1/positions/russia/ceasefire/history", auth))["items"]
    assert step["kind"] == "StanceBackfilled" and step["evidence"]["published_at_inferred"] is True

    # A dated article, published long before the undated one arrived, still sets the position.
    dated_body = f"{RUSSIA_SAYS_NO} Dated item {uuid.uuid4()}."
    dated = stored(ArticleIn(body=dated_body, published_at=T0))
    process(dated, ScriptedExtractor({dated_body: [claim(stance="support", quote="Moscow would")]}))
    (position,) = (await get(client, "/v1/positions?actor=russia", auth))["items"]
    assert position["stance"] == "support" and position["evidence"]["published_at_inferred"] is False
    assert (await get(client, f"/v1/articles/{dated}", auth))["published_at_inferred"] is False


async def test_a_client_may_let_an_undated_article_count_as_published_on_arrival(client, auth):
    body = f"{RUSSIA_SAYS_NO} Wire item {uuid.uuid4()}."
    undated = stored(ArticleIn(body=body, published_at_fallback="ingest_time"))
    process(undated, ScriptedExtractor({body: [claim(stance="oppose", quote="Moscow would not accept")]}))

    detail = await get(client, f"/v1/articles/{undated}", auth)
    assert detail["published_at_inferred"] is True and detail["published_at_fallback"] == "ingest_time"
    (event,) = detail["events"]
    assert event["type"] == "StanceChanged" and event["metadata"]["published_at_inferred"] is True
    (position,) = (await get(client, "/v1/positions?actor=russia", auth))["items"]
    assert position["stance"] == "oppose" and position["evidence"]["published_at_inferred"] is True


async def test_the_fallback_is_taken_from_json_and_from_the_query_of_a_text_body(client, auth):
    posted = await client.post(
        "/v1/articles", json={"body": f"{RUSSIA_SAYS_NO} {uuid.uuid4()}"}, headers=auth
    )
    assert posted.status_code == 202, posted.text
    detail = await get(client, posted.json()["links"]["self"], auth)
    assert (detail["published_at_inferred"], detail["published_at_fallback"]) == (True, "history")

    text = await client.post(
        "/v1/articles?published_at_fallback=ingest_time",
        content=f"{RUSSIA_SAYS_NO} {uuid.uuid4()}",
        headers={**auth, "Content-Type": "text/plain"},
    )
    assert text.status_code == 202, text.text
    detail = await get(client, text.json()["links"]["self"], auth)
    assert (detail["published_at_inferred"], detail["published_at_fallback"]) == (True, "ingest_time")

    dated = await client.post(
        "/v1/articles",
        json={"body": f"{RUSSIA_SAYS_NO} {uuid.uuid4()}", "published_at": "2025-03-01T00:00:00Z"},
        headers=auth,
    )
    detail = await get(client, dated.json()["links"]["self"], auth)
    assert (detail["published_at_inferred"], detail["published_at_fallback"]) == (False, None)

    bad = await client.post(
        "/v1/articles", json={"body": RUSSIA_SAYS_NO, "published_at_fallback": "now"}, headers=auth
    )
    assert bad.status_code == 422


async def test_a_skipped_article_says_why(client, auth):
    no_actors = (
        f"The weather in the mountains was cold and the roads were closed for the week. {uuid.uuid4()}"
    )
    no_stance = (
        f"The Kremlin held a meeting on Monday about the harvest and the state of the roads. {uuid.uuid4()}"
    )
    nothing = ScriptedExtractor({})
    ids = {"no_actors": stored(ArticleIn(body=no_actors)), "no_stance": stored(ArticleIn(body=no_stance))}
    with session_scope() as session:  # stored before ingest refused such text, or imported directly
        foreign = Article(
            id=uuid.uuid4(),
            body="Der Kreml erklärte am Montag, dass Moskau keinem Waffenstillstand zustimmen werde.",
            content_hash=uuid.uuid4().hex,
            published_at=T0,
            status="pending",
            attempts=0,
            language="en",
        )
        session.add(foreign)
        session.flush()
        ids["not_english"] = foreign.id
    for reason, article_id in ids.items():
        process(article_id, nothing)
        detail = await get(client, f"/v1/articles/{article_id}", auth)
        assert (detail["status"], detail["skip_reason"]) == ("skipped", reason)
        assert detail["error"] and detail["claims"] == [] and detail["events"] == []
    assert "ukraine" in (await get(client, f"/v1/articles/{ids['no_actors']}", auth))["error"]
