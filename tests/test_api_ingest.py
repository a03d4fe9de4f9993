"""Posting articles: content types, deduplication, and bad input refused with nothing stored."""

import json

import pytest
from sqlalchemy import func, select

from services.db import session_scope
from services.models import Article

BODY = (
    "Russia said on Tuesday that it would accept a ceasefire only if Ukraine gave up its bid to join "
    "NATO, while officials in Kyiv said they were ready for talks with the United States."
)


def stored_articles() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(Article)) or 0


async def test_no_key_is_401_and_a_read_key_cannot_ingest(client, make_key):
    response = await client.post("/v1/articles", json={"body": BODY})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "Bearer" in response.json()["detail"]
    read_only = {"Authorization": f"Bearer {make_key('read')}"}
    response = await client.post("/v1/articles", json={"body": BODY}, headers=read_only)
    assert response.status_code == 403
    assert "ingest" in response.json()["detail"]
    response = await client.get("/v1/positions", headers={"Authorization": "Bearer stk_nope"})
    assert response.status_code == 401
    assert stored_articles() == 0


async def test_json_article_is_accepted_and_readable(client, auth):
    response = await client.post(
        "/v1/articles",
        json={
            "body": BODY,
            "title": "Truce terms",
            "url": "https://news.example/a1",
            "published_at": "2025-03-14T10:00:00Z",
        },
        headers=auth,
    )
    assert response.status_code == 202, response.text
    created = response.json()
    assert created["created"] is True and created["status"] == "pending"
    assert response.headers["location"] == f"/v1/articles/{created['id']}"
    detail = (await client.get(created["links"]["self"], headers=auth)).json()
    assert detail["title"] == "Truce terms"
    assert detail["published_at"] == "2025-03-14T10:00:00Z"
    assert detail["status"] in ("pending", "processing", "processed", "skipped")


async def test_the_same_article_twice_creates_one(client, auth):
    first = await client.post(
        "/v1/articles", json={"body": BODY, "url": "https://news.example/x"}, headers=auth
    )
    by_url = await client.post(
        "/v1/articles", json={"body": BODY + " More.", "url": "https://news.example/x"}, headers=auth
    )
    by_text = await client.post("/v1/articles", json={"body": "  " + BODY.upper() + "\n"}, headers=auth)
    keyed = {**auth, "Idempotency-Key": "abc-123"}
    other = BODY.replace("Tuesday", "Wednesday")
    by_key_first = await client.post("/v1/articles", json={"body": other}, headers=keyed)
    by_key_again = await client.post("/v1/articles", json={"body": other + " Again."}, headers=keyed)
    assert first.status_code == 202 and by_key_first.status_code == 202
    for duplicate, original in ((by_url, first), (by_text, first), (by_key_again, by_key_first)):
        assert duplicate.status_code == 200
        assert duplicate.json()["id"] == original.json()["id"]
        assert duplicate.json()["created"] is False
    assert stored_articles() == 2


async def test_plain_text_and_html_are_accepted(client, auth):
    plain = await client.post(
        "/v1/articles?title=Plain&source=Wire",
        content=BODY.encode(),
        headers={**auth, "Content-Type": "text/plain; charset=utf-8"},
    )
    assert plain.status_code == 202, plain.text
    html = (
        "<html><head><title>Kyiv and Moscow</title></head><body><nav>Home | World</nav>"
        f"<article><h1>Kyiv and Moscow</h1><p>{BODY.replace('Russia', 'Moscow')}</p>"
        "<p>Diplomats said the talks would continue next week in Riyadh, where the delegations are expected "
        "to discuss a maritime truce in the Black Sea and the exchange of prisoners.</p>"
        "</article></body></html>"
    )
    response = await client.post(
        "/v1/articles", content=html.encode(), headers={**auth, "Content-Type": "text/html"}
    )
    assert response.status_code == 202, response.text
    detail = (await client.get(f"/v1/articles/{response.json()['id']}", headers=auth)).json()
    assert detail["title"] == "Kyiv and Moscow"
    assert stored_articles() == 2


async def test_a_batch_stores_all_or_nothing(client, auth):
    good = [{"body": f"{BODY} Item {i}."} for i in range(3)]
    response = await client.post("/v1/articles/batch", json={"articles": [*good, {"body": ""}]}, headers=auth)
    assert response.status_code == 422
    assert "articles[3]" in response.json()["detail"]
    assert stored_articles() == 0
    response = await client.post("/v1/articles/batch", json={"articles": good}, headers=auth)
    assert response.status_code == 202
    assert [item["created"] for item in response.json()["items"]] == [True, True, True]
    twice = await client.post(
        "/v1/articles/batch",
        json={"articles": [{"body": BODY + " Twice."}, {"body": BODY + " Twice."}]},
        headers=auth,
    )
    first, second = twice.json()["items"]
    assert (first["created"], second["created"], second["id"]) == (True, False, first["id"])
    too_many = {"articles": [{"body": f"{BODY} N{i}."} for i in range(101)]}
    assert (await client.post("/v1/articles/batch", json=too_many, headers=auth)).status_code == 422
    assert stored_articles() == 4


@pytest.mark.parametrize(
    ("content", "content_type", "status", "detail_part"),
    [
        (b"x" * 300_000, "text/plain", 413, "limit"),
        (json.dumps({"body": ""}).encode(), "application/json", 422, "empty"),
        (json.dumps({"body": "   \n "}).encode(), "application/json", 422, "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "text/plain", 422, "binary"),
        ("Le gouvernement a dit non à la trêve".encode("latin-1"), "text/plain", 422, "UTF-8"),
        (BODY.encode(), "application/xml", 415, "content type"),
        (b"", "", 415, "content type"),
        (
            json.dumps(
                {
                    "body": "Le Kremlin a rejeté mardi la proposition de cessez-le-feu de trente jours, "
                    "affirmant que les conditions posées par Kiev et ses alliés européens restaient "
                    "inacceptables pour la Russie."
                }
            ).encode(),
            "application/json",
            422,
            "English",
        ),
        (json.dumps({"body": BODY, "language": "de"}).encode(), "application/json", 422, "English"),
        (b'{"body": "unterminated', "application/json", 400, "Malformed JSON"),
        (b"[1, 2]", "application/json", 422, "object"),
        (json.dumps({"body": BODY, "url": "ftp://x"}).encode(), "application/json", 422, "url"),
        (
            json.dumps({"body": BODY, "published_at": "yesterday"}).encode(),
            "application/json",
            422,
            "published_at",
        ),
        (
            json.dumps({"body": BODY, "published_at": "2999-01-01T00:00:00Z"}).encode(),
            "application/json",
            422,
            "future",
        ),
        (json.dumps({"body": BODY, "colour": "red"}).encode(), "application/json", 422, "colour"),
        (json.dumps({"body": 42}).encode(), "application/json", 422, "body"),
        (json.dumps({"body": BODY + "\u0000"}).encode(), "application/json", 422, "NUL"),
        (json.dumps({"body": BODY, "title": "a\u0000b"}).encode(), "application/json", 422, "NUL"),
    ],
)
async def test_bad_input_gets_a_clear_4xx_and_stores_nothing(
    client, auth, content, content_type, status, detail_part
):
    headers = {**auth, "Content-Type": content_type} if content_type else dict(auth)
    response = await client.post("/v1/articles", content=content, headers=headers)
    assert response.status_code == status, response.text
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert problem["status"] == status
    assert detail_part.lower() in problem["detail"].lower()
    assert stored_articles() == 0


async def test_unknown_ids_are_404_problems(client, auth):
    for path in (
        "/v1/articles/00000000-0000-0000-0000-000000000000",
        "/v1/actors/atlantis",
        "/v1/positions/atlantis/ceasefire/history",
    ):
        response = await client.get(path, headers=auth)
        assert response.status_code == 404, path
        assert response.json()["title"] == "Not found"
    response = await client.get("/v1/articles/not-a-uuid", headers=auth)
    assert response.status_code == 422
    response = await client.get("/v1/positions?cursor=%%%", headers=auth)
    assert response.status_code == 400
