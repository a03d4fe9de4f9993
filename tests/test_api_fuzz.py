"""Schemathesis over the OpenAPI: whatever a client sends, the API answers without a 5xx."""

import pytest

from tests.fuzzing import fuzz_settings, schema

# Webhook endpoints that would make the worker call out are covered by their own tests.
fuzzed = schema.include(method=["GET", "POST"]).exclude(path_regex=r"/v1/(subscriptions|deliveries)")


@pytest.fixture
def fuzz_auth(make_key):
    return {"Authorization": f"Bearer {make_key('ingest', 'read', 'admin')}"}


@fuzzed.parametrize()
@fuzz_settings
def test_no_request_gets_a_server_error(case, fuzz_auth):
    response = case.call(headers=dict(fuzz_auth))
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text[:500]}"
    if response.status_code >= 400:
        assert str(response.headers["content-type"]).find("application/problem+json") >= 0
