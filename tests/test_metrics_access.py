"""/metrics can be kept from clients: behind a key, or on a port of its own."""

import httpx
import pytest

from services.runtime.embedded import free_port
from services.settings import get_settings
from tests.conftest import _state, wait_for
from tests.private_servers import ApiProcess


@pytest.fixture
def settings_env(monkeypatch):
    def configure(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(f"STANCE_{name.upper()}", value)
        get_settings.cache_clear()

    yield configure
    get_settings.cache_clear()


async def test_metrics_are_open_by_default(client):
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert "stance_webhook_outbox_depth" in response.text


async def test_a_metrics_key_is_required_when_set(client, settings_env):
    settings_env(metrics_key="s3cret-scraper")
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-scraper-x"}):
        response = await client.get("/metrics", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["content-type"].startswith("application/problem+json")
    response = await client.get("/metrics", headers={"Authorization": "Bearer s3cret-scraper"})
    assert response.status_code == 200
    assert "stance_webhook_outbox_depth" in response.text


def test_metrics_on_their_own_port_are_not_on_the_api_port(clean_db):
    port = free_port()
    api = ApiProcess({"STANCE_METRICS_PORT": str(port)}, _state["home"] / "metrics-port-api.log")
    api.start()
    try:
        assert httpx.get(api.base_url + "/metrics").status_code == 404
        response = wait_for(
            lambda: _get(f"http://127.0.0.1:{port}/metrics"), timeout=10, message="the metrics port"
        )
        assert "stance_webhook_outbox_depth" in response.text
    finally:
        api.stop()


def _get(url: str) -> httpx.Response | None:
    try:
        response = httpx.get(url, timeout=2)
    except httpx.HTTPError:
        return None
    return response if response.status_code == 200 else None
