"""Schemathesis over the subscriptions API: whatever a client sends, no 5xx and problem+json errors.

`/test`, `/replay` and `/redeliver` are left out: they make the worker call the subscribed URL,
and a fuzzer's URLs must not be called. Their behaviour is covered in test_webhooks_api.py.
"""

import pytest

from tests.fuzzing import fuzz_settings, schema
from tests.test_api_fuzz import CHECKS

fuzzed = schema.include(path_regex=r"^/v1/subscriptions").exclude(path_regex=r"/(test|replay)$")


@pytest.fixture
def admin(make_key):
    return {"Authorization": f"Bearer {make_key('admin')}"}


@fuzzed.parametrize()
@fuzz_settings
def test_no_subscription_request_gets_a_server_error(case, admin):
    response = case.call(headers=admin)
    case.validate_response(response, checks=CHECKS)
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text[:500]}"
    if response.status_code >= 400:
        content_type = response.headers["content-type"]  # schemathesis gives each header as a list
        assert (content_type[0] if isinstance(content_type, list) else content_type).startswith(
            "application/problem+json"
        )
