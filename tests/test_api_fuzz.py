"""Schemathesis over the OpenAPI: whatever a client sends, the API answers without a 5xx."""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from services.api.app import app

# CI runs a fixed set of examples so a landing never hinges on luck; STANCE_FUZZ_EXAMPLES=500
# explores further and afresh each run.
FUZZ_EXAMPLES = int(os.environ.get("STANCE_FUZZ_EXAMPLES", "40"))
FUZZ_DERANDOMIZE = "STANCE_FUZZ_EXAMPLES" not in os.environ

schema = schemathesis.openapi.from_asgi("/openapi.json", app)
# Webhook endpoints that would make the worker call out are covered by their own tests.
fuzzed = schema.include(method=["GET", "POST"]).exclude(path_regex=r"/v1/(subscriptions|deliveries)")


@pytest.fixture
def fuzz_auth(make_key):
    return {"Authorization": f"Bearer {make_key('ingest', 'read', 'admin')}"}


@fuzzed.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    derandomize=FUZZ_DERANDOMIZE,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_gets_a_server_error(case, fuzz_auth):
    response = case.call(headers=dict(fuzz_auth))
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text[:500]}"
    if response.status_code >= 400:
        assert str(response.headers["content-type"]).find("application/problem+json") >= 0
