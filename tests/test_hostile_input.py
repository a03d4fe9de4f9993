"""Hostile input found by a probe of the running service: each is a clear 4xx problem, nothing stored."""

import uuid

import pytest
from sqlalchemy import func, select

from services.db import session_scope
from services.models import Article, WebhookSubscription

BODY = (
    "Russia said on Tuesday that it would accept a ceasefire only if Ukraine gave up its bid to join "
    "NATO, while officials in Kyiv said they were ready for talks with the United States."
)
HUGE_INT = "9" * 5000
DEEP = "[" * 1000 + "]" * 1000


def stored(model: type = Article) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def json_headers(auth: dict[str, str]) -> dict[str, str]:
    return {**auth, "Content-Type": "application/json"}


def assert_problem(response, status: int | tuple[int, ...], mentions: str | None = None) -> None:
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, (response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == response.status_code
    if mentions is not None:
        assert mentions.lower() in problem["detail"].lower(), problem["detail"]


def article_with(extra: str, body_suffix: str = "") -> str:
    """Raw JSON text of an article with `extra` spliced in verbatim (as no encoder would write it)."""
    return '{"body": "' + BODY + body_suffix + '"' + extra + "}"


RAW_ARTICLES = {
    "lone surrogate": (article_with("", " \\ud800"), "surrogate"),
    "lone low surrogate in a key": (article_with(', "\\udc00": 1'), "surrogate"),
    "huge integer": (article_with(', "title": ' + HUGE_INT), "digits"),
    "huge integer in an array": (article_with(', "title": [' + HUGE_INT + "]"), "digits"),
    "deep nesting": (article_with(', "title": ' + DEEP), "nested"),
    "deep nesting alone": (DEEP, "nested"),
    "huge float exponent": (article_with(', "title": 1e999999'), None),
}


@pytest.mark.parametrize("name", sorted(RAW_ARTICLES))
async def test_hostile_json_article_is_a_4xx(client, auth, name):
    raw, mentions = RAW_ARTICLES[name]
    response = await client.post("/v1/articles", content=raw.encode(), headers=json_headers(auth))
    assert_problem(response, (400, 422), mentions)
    assert stored() == 0


@pytest.mark.parametrize("name", sorted(RAW_ARTICLES))
async def test_hostile_json_inside_a_batch_is_a_4xx(client, auth, name):
    raw, mentions = RAW_ARTICLES[name]
    batch = '{"articles": [{"body": "' + BODY.replace("Tuesday", "Monday") + '"}, ' + raw + "]}"
    response = await client.post("/v1/articles/batch", content=batch.encode(), headers=json_headers(auth))
    assert_problem(response, (400, 422), mentions)
    assert stored() == 0


async def test_hostile_json_in_a_subscription_body_is_a_4xx(client, auth):
    for raw in (
        '{"url": "https://hooks.example/\\ud800"}',
        '{"url": "https://hooks.example/", "description": ' + HUGE_INT + "}",
        '{"url": "https://hooks.example/", "description": ' + DEEP + "}",
    ):
        response = await client.post("/v1/subscriptions", content=raw.encode(), headers=json_headers(auth))
        assert_problem(response, (400, 422))
    assert stored(WebhookSubscription) == 0


@pytest.mark.parametrize(
    "published_at",
    ["0001-01-01T00:00:00+14:00", "0001-01-01T10:00:00+10:30", "9999-12-31T23:00:00-02:00"],
)
async def test_a_date_outside_years_1_to_9999_in_utc_is_a_422(client, auth, published_at):
    response = await client.post(
        "/v1/articles", json={"body": BODY, "published_at": published_at}, headers=auth
    )
    assert_problem(response, 422, "published_at")
    response = await client.post(
        "/v1/articles",
        params={"published_at": published_at},
        content=BODY.encode(),
        headers={**auth, "Content-Type": "text/plain"},
    )
    assert_problem(response, 422, "published_at")
    batch = {"articles": [{"body": BODY}, {"body": BODY + " Again.", "published_at": published_at}]}
    response = await client.post("/v1/articles/batch", json=batch, headers=auth)
    assert_problem(response, 422, "published_at")
    assert stored() == 0


async def test_an_as_of_before_year_1_in_utc_is_a_422(client, auth):
    response = await client.get("/v1/positions", params={"as_of": "0001-01-01T00:00:00+14:00"}, headers=auth)
    assert_problem(response, 422, "as_of")


async def test_a_date_at_the_edge_of_the_range_is_accepted(client, auth):
    response = await client.post(
        "/v1/articles", json={"body": BODY, "published_at": "0001-01-01T00:00:00Z"}, headers=auth
    )
    assert response.status_code == 202, response.text


async def test_an_overlong_url_is_a_422_and_the_limit_is_in_the_schema(client, auth):
    url = "https://news.example/" + "a" * 3000
    response = await client.post("/v1/articles", json={"body": BODY, "url": url}, headers=auth)
    assert_problem(response, 422, "url")
    # Percent-encoding can lengthen a URL: the limit holds for the URL as stored.
    url = "https://news.example/" + "é" * 1000
    response = await client.post("/v1/articles", json={"body": BODY, "url": url}, headers=auth)
    assert_problem(response, 422, "url")
    batch = {"articles": [{"body": BODY}, {"body": BODY + " Again.", "url": url}]}
    response = await client.post("/v1/articles/batch", json=batch, headers=auth)
    assert_problem(response, 422, "url")
    response = await client.post(
        "/v1/subscriptions", json={"url": "https://hooks.example/" + "a" * 3000}, headers=auth
    )
    assert_problem(response, 422, "url")
    assert stored() == 0
    assert stored(WebhookSubscription) == 0
    schema = (await client.get("/openapi.json")).json()
    url_schema = schema["components"]["schemas"]["ArticleIn"]["properties"]["url"]
    assert any(option.get("maxLength") == 2048 for option in url_schema["anyOf"]), url_schema
    response = await client.post(
        "/v1/articles", json={"body": BODY, "url": "https://news.example/" + "a" * 2000}, headers=auth
    )
    assert response.status_code == 202, response.text


@pytest.mark.parametrize("since", ["%C2%B3", "%D9%A3", "99999999999999999999999", "-1", "1e3"])
async def test_replay_since_that_is_no_position_nor_time_is_a_422(client, auth, since):
    created = await client.post("/v1/subscriptions", json={"url": "https://hooks.example/"}, headers=auth)
    assert created.status_code == 201, created.text
    subscription_id = created.json()["id"]
    response = await client.post(f"/v1/subscriptions/{subscription_id}/replay?since={since}", headers=auth)
    assert_problem(response, 422, "since")


async def test_replay_since_a_time_before_year_1_in_utc_is_a_422(client, auth):
    created = await client.post("/v1/subscriptions", json={"url": "https://hooks.example/"}, headers=auth)
    subscription_id = created.json()["id"]
    response = await client.post(
        f"/v1/subscriptions/{subscription_id}/replay",
        params={"since": "0001-01-01T00:00:00+14:00"},
        headers=auth,
    )
    assert_problem(response, 422, "since")


async def test_one_oversized_article_in_a_batch_is_a_413_and_stores_none(client, auth, infra):
    from services.settings import get_settings

    limit = get_settings().max_article_bytes
    big = (BODY + " ") * (limit // len(BODY) + 2)
    batch = {"articles": [{"body": BODY}, {"body": big}]}
    response = await client.post("/v1/articles/batch", json=batch, headers=auth)
    assert_problem(response, 413, "articles[1]")
    assert stored() == 0
    # The same article alone is refused the same way.
    response = await client.post("/v1/articles", json={"body": big}, headers=auth)
    assert_problem(response, 413)
    assert stored() == 0


async def test_unknown_subscription_replay_is_still_404(client, auth):
    response = await client.post(f"/v1/subscriptions/{uuid.uuid4()}/replay?since=0", headers=auth)
    assert_problem(response, 404)
