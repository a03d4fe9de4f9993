"""Fuzzing the API: whatever a client sends, it answers without a 5xx, errors are problem+json, and
every response matches the OpenAPI document."""

import pytest
from hypothesis import given
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import func, select

from services.db import session_scope
from services.models import ApiKey, Article, WebhookSubscription
from tests.fuzzing import fuzz_settings, hostile_requests, schema

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

# Webhook endpoints that would make the worker call out are covered by their own tests.
fuzzed = schema.include(method=["GET", "POST"]).exclude(path_regex=r"/v1/(subscriptions|deliveries)")


@pytest.fixture
def fuzz_auth(make_key):
    return {"Authorization": f"Bearer {make_key('ingest', 'read', 'admin')}"}


@fuzzed.parametrize()
@fuzz_settings
def test_no_request_gets_a_server_error(case, fuzz_auth):
    response = case.call(headers=dict(fuzz_auth))
    case.validate_response(response, checks=CHECKS)
    if response.status_code >= 400:
        assert str(response.headers["content-type"]).find("application/problem+json") >= 0


def _counts() -> tuple[int, int, int]:
    with session_scope() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Article, WebhookSubscription, ApiKey)
        )


@pytest.fixture
def sync_client():
    from fastapi.testclient import TestClient

    from services.api.app import app

    with TestClient(app, raise_server_exceptions=False) as http:
        yield http


@given(request=hostile_requests)
@fuzz_settings
def test_hostile_json_is_a_4xx_problem_and_stores_nothing(request, fuzz_auth, sync_client):
    method, path, raw = request
    before = _counts()
    response = sync_client.request(
        method, path, content=raw.encode(), headers={**fuzz_auth, "Content-Type": "application/json"}
    )
    assert response.status_code < 500, (path, raw[:300], response.text[:300])
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json"), response.text
        assert response.json()["status"] == response.status_code
        assert _counts() == before, (path, raw[:300])
