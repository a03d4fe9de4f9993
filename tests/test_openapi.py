"""The OpenAPI document is whole and valid, so client generators and fuzzers can build every request."""

import uuid

from openapi_spec_validator import validate

from services.api.app import app


def test_the_document_validates_and_every_reference_resolves():
    document = app.openapi()
    validate(document)  # raises on an invalid document or a dangling $ref
    assert "nest at most 32 levels" in document["info"]["description"]  # the JSON limits are stated
    schemas = document["components"]["schemas"]
    for name in ("ArticleIn", "ArticleBatchIn"):
        assert name in schemas
    body = document["paths"]["/v1/articles"]["post"]["requestBody"]["content"]
    assert body["application/json"]["schema"] == {"$ref": "#/components/schemas/ArticleIn"}
    batch = document["paths"]["/v1/articles/batch"]["post"]["requestBody"]["content"]
    assert batch["application/json"]["schema"] == {"$ref": "#/components/schemas/ArticleBatchIn"}
    assert schemas["ArticleBatchIn"]["properties"]["articles"]["items"] == {
        "$ref": "#/components/schemas/ArticleIn"
    }


async def test_a_405_names_every_method_of_the_path(client, auth):
    response = await client.options(f"/v1/subscriptions/{uuid.uuid4()}", headers=auth)
    assert response.status_code == 405
    assert response.headers["content-type"].startswith("application/problem+json")
    allowed = {method.strip() for method in response.headers["allow"].split(",")}
    assert {"GET", "PATCH", "DELETE"} <= allowed
    assert "POST" not in allowed
    response = await client.put("/v1/articles", headers=auth)
    assert response.status_code == 405
    assert {m.strip() for m in response.headers["allow"].split(",")} == {"POST"}
