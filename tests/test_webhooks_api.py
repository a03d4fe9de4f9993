"""The subscriptions API: secrets, filters, rotation, test pings, deliveries, redelivery, replay, 410."""

import uuid
from typing import Any

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from services.api.app import app
from services.api.deps import settings as settings_dependency
from services.settings import Settings
from tests.conftest import wait_for
from tests.factories import claim
from tests.test_webhooks import deliveries, delivery_settled, projected, publish, subscribe
from tests.test_webhooks_receiver import receiver

__all__ = ["receiver"]  # the fixture, imported so the tests here can use it

PROBLEM = "application/problem+json"


async def test_the_secret_is_shown_at_creation_only_and_the_subscription_can_be_listed_changed_and_deleted(
    client, auth
):
    created = await client.post(
        "/v1/subscriptions",
        json={"url": "https://hooks.example.com/stance", "description": "ops", "actors": ["russia"]},
        headers=auth,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40
    assert created.headers["location"] == f"/v1/subscriptions/{body['id']}"
    assert (body["actors"], body["topics"], body["event_types"], body["enabled"]) == (
        ["russia"],
        [],
        [],
        True,
    )

    fetched = (await client.get(f"/v1/subscriptions/{body['id']}", headers=auth)).json()
    assert "secret" not in fetched and fetched["url"] == "https://hooks.example.com/stance"
    second = (
        await client.post("/v1/subscriptions", json={"url": "https://b.example.com/"}, headers=auth)
    ).json()
    page = (await client.get("/v1/subscriptions?limit=1", headers=auth)).json()
    assert [s["id"] for s in page["items"]] == [body["id"]] and "secret" not in page["items"][0]
    rest = (await client.get(f"/v1/subscriptions?limit=1&cursor={page['next_cursor']}", headers=auth)).json()
    assert [s["id"] for s in rest["items"]] == [second["id"]]

    patched = await client.patch(
        f"/v1/subscriptions/{body['id']}",
        json={"topics": ["ceasefire"], "event_types": ["position.changed"], "enabled": False},
        headers=auth,
    )
    assert patched.status_code == 200, patched.text
    changed = patched.json()
    assert (changed["topics"], changed["actors"], changed["enabled"]) == (["ceasefire"], ["russia"], False)
    assert changed["disabled_reason"]
    enabled = (
        await client.patch(f"/v1/subscriptions/{body['id']}", json={"enabled": True}, headers=auth)
    ).json()
    assert enabled["enabled"] is True and enabled["disabled_reason"] is None

    assert (await client.delete(f"/v1/subscriptions/{body['id']}", headers=auth)).status_code == 204
    gone = await client.get(f"/v1/subscriptions/{body['id']}", headers=auth)
    assert gone.status_code == 404 and gone.headers["content-type"] == PROBLEM
    assert str(body["id"]) in gone.json()["detail"]


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"url": "ftp://example.com/x"}, "http:// or https://"),
        ({"url": "https:///nohost"}, "no host"),
        ({"url": "https://a.example.com/", "actors": ["atlantis"]}, "Unknown actor id(s) 'atlantis'"),
        ({"url": "https://a.example.com/", "topics": ["weather"]}, "Unknown topic id(s) 'weather'"),
        ({"url": "https://a.example.com/", "event_types": ["position.deleted"]}, "event_types"),
        ({"url": "https://a.example.com/", "colour": "red"}, "colour"),
    ],
)
async def test_a_bad_subscription_is_refused_with_what_to_fix(client, auth, payload, expected):
    response = await client.post("/v1/subscriptions", json=payload, headers=auth)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM and expected in response.json()["detail"]


async def test_subscriptions_need_the_admin_scope_and_unknown_ids_are_404(client, make_key):
    reader = {"Authorization": f"Bearer {make_key('read', 'ingest')}"}
    assert (await client.get("/v1/subscriptions", headers=reader)).status_code == 403
    admin = {"Authorization": f"Bearer {make_key('admin')}"}
    missing = uuid.uuid4()
    for method, path in [
        ("GET", f"/v1/subscriptions/{missing}"),
        ("PATCH", f"/v1/subscriptions/{missing}"),
        ("DELETE", f"/v1/subscriptions/{missing}"),
        ("POST", f"/v1/subscriptions/{missing}/rotate-secret"),
        ("POST", f"/v1/subscriptions/{missing}/test"),
        ("GET", f"/v1/subscriptions/{missing}/deliveries"),
        ("POST", f"/v1/subscriptions/{missing}/replay?since=0"),
        ("POST", f"/v1/deliveries/{missing}/redeliver"),
    ]:
        response = await client.request(method, path, headers=admin, json={} if method == "PATCH" else None)
        assert response.status_code == 404, (method, path, response.text)
        assert response.headers["content-type"] == PROBLEM


@pytest.fixture
def without_allow_list():
    settings = Settings().model_copy(update={"webhook_allowed_hosts": []})
    app.dependency_overrides[settings_dependency] = lambda: settings
    yield settings
    app.dependency_overrides.pop(settings_dependency, None)


@pytest.mark.parametrize(
    ("url", "named"),
    [
        (
            "http://169.254.169.254/latest/meta-data/",
            "169.254.169.254, a cloud metadata (link-local) address",
        ),
        ("http://10.0.0.1/", "10.0.0.1, a private address"),
        ("http://localhost/", "'localhost', a loopback name"),
        ("http://127.0.0.1:8080/", "127.0.0.1, a loopback address"),
        ("http://[::1]/", "::1, a loopback address"),
        ("http://2130706433/", "127.0.0.1, a loopback address"),
        ("http://0.0.0.0/", "0.0.0.0, a unspecified address"),
        ("http://224.0.0.1/", "224.0.0.1, a multicast address"),
    ],
)
async def test_internal_urls_are_refused_at_creation_without_the_allow_list(
    client, auth, without_allow_list, url, named
):
    response = await client.post("/v1/subscriptions", json={"url": url}, headers=auth)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert named in detail and "STANCE_WEBHOOK_ALLOWED_HOSTS" in detail
    listed = (await client.get("/v1/subscriptions", headers=auth)).json()
    assert listed["items"] == []  # nothing partial was stored


async def test_the_allow_list_lets_a_named_host_or_cidr_through(client, auth):
    # conftest allows 127.0.0.1 and localhost; a CIDR entry is exercised in the unit tests.
    for url in ("http://127.0.0.1:9/hook", "http://localhost:9/hook"):
        response = await client.post("/v1/subscriptions", json={"url": url}, headers=auth)
        assert response.status_code == 201, response.text
    metadata = await client.post("/v1/subscriptions", json={"url": "http://169.254.169.254/"}, headers=auth)
    assert metadata.status_code == 422


async def test_a_ping_is_signed_and_listed_with_its_attempt_and_can_be_redelivered_under_the_same_id(
    client, auth, worker, receiver
):
    subscription = await subscribe(client, auth, receiver)
    sent = await client.post(f"/v1/subscriptions/{subscription['id']}/test", headers=auth)
    assert sent.status_code == 202, sent.text
    ping = sent.json()
    assert ping["event_type"] == "ping" and ping["status"] == "pending"
    wait_for(lambda: receiver.of_type("ping"), message="the ping")
    (received,) = receiver.of_type("ping")
    assert received.verified and received.webhook_id == ping["webhook_id"]
    assert received.payload["data"]["subscription_id"] == subscription["id"]

    # The receiver answers before the worker commits the outcome: wait on the row, not the receiver.
    wait_for(lambda: delivery_settled(subscription["id"], "delivered", 1), message="the ping recorded")
    delivered = await client.get(
        f"/v1/subscriptions/{subscription['id']}/deliveries?status=delivered", headers=auth
    )
    (item,) = delivered.json()["items"]
    assert item["id"] == ping["id"] and item["attempt_count"] == 1
    (attempt,) = item["attempts"]
    assert attempt["status_code"] == 200 and attempt["response_body"] == "verified"
    assert attempt["latency_ms"] >= 0 and attempt["error"] is None
    pending = await client.get(
        f"/v1/subscriptions/{subscription['id']}/deliveries?status=failed", headers=auth
    )
    assert pending.json()["items"] == []

    again = await client.post(f"/v1/deliveries/{ping['id']}/redeliver", headers=auth)
    assert again.status_code == 202, again.text
    wait_for(lambda: len(receiver.of_type("ping")) == 2, message="the redelivered ping")
    assert [r.webhook_id for r in receiver.of_type("ping")] == [ping["webhook_id"]] * 2


async def test_after_rotation_both_the_old_and_the_new_secret_verify_during_the_grace_period(
    client, auth, worker, receiver
):
    subscription = await subscribe(client, auth, receiver)
    old_secret = subscription["secret"]
    rotated = await client.post(f"/v1/subscriptions/{subscription['id']}/rotate-secret", headers=auth)
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]
    assert new_secret != old_secret and rotated.json()["previous_secret_expires_at"]
    receiver.secrets = [new_secret]
    await client.post(f"/v1/subscriptions/{subscription['id']}/test", headers=auth)
    wait_for(lambda: receiver.of_type("ping"), message="the ping after rotation")
    (ping,) = receiver.of_type("ping")
    assert len(ping.headers["webhook-signature"].split(" ")) == 2
    for secret in (old_secret, new_secret):
        assert Webhook(secret).verify(ping.body, ping.headers)["type"] == "ping"
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 43 + "=").verify(ping.body, ping.headers)


async def test_replay_resends_past_changes_as_marked_replays_with_new_ids(client, auth, worker, receiver):
    subscription = await subscribe(client, auth, receiver)
    publish([claim(stance="oppose", quote="No.")], [claim(stance="support", quote="Yes.")])
    wait_for(lambda: len(receiver.delivered()) == 2, message="the two original deliveries")
    originals = {r.payload["data"]["event_position"]: r for r in receiver.delivered()}
    first_position = min(originals)

    bad = await client.post(f"/v1/subscriptions/{subscription['id']}/replay?since=yesterday", headers=auth)
    assert bad.status_code == 422 and "ISO 8601" in bad.json()["detail"]
    replayed = await client.post(
        f"/v1/subscriptions/{subscription['id']}/replay?since={first_position - 1}", headers=auth
    )
    assert replayed.status_code == 202, replayed.text
    assert replayed.json()["created"] == 2
    wait_for(lambda: len(receiver.delivered()) == 4, message="the two replays")
    replays = receiver.delivered()[2:]
    assert all(r.verified for r in replays)
    assert not {r.webhook_id for r in replays} & {r.webhook_id for r in originals.values()}
    for replay in replays:
        data = replay.payload["data"]
        original = originals[data["event_position"]].payload["data"]
        assert data.pop("replay") is True
        assert data == original
    only_last = await client.post(
        f"/v1/subscriptions/{subscription['id']}/replay?since={first_position}", headers=auth
    )
    assert only_last.json()["created"] == 1
    assert sum(d.replay for d in deliveries(subscription["id"])) == 3


async def test_a_410_disables_the_subscription_at_once_and_patch_re_enables_it(
    client, auth, worker, receiver
):
    receiver.script = [410]
    subscription = await subscribe(client, auth, receiver)
    publish([claim(stance="oppose", quote="No.")])
    wait_for(lambda: receiver.received, message="the 410")

    def disabled() -> dict[str, Any] | None:
        (row,) = deliveries(subscription["id"])
        return {"status": row.status} if row.status == "failed" else None

    wait_for(disabled, message="the delivery to fail")
    state = (await client.get(f"/v1/subscriptions/{subscription['id']}", headers=auth)).json()
    assert state["enabled"] is False and "410" in state["disabled_reason"]
    assert len(receiver.received) == 1  # no retries after a 410
    refused = await client.post(f"/v1/subscriptions/{subscription['id']}/test", headers=auth)
    assert refused.status_code == 409 and "enabled" in refused.json()["detail"]

    publish([claim(stance="support", quote="Yes.")], first_day=1)  # a disabled subscription gets no row
    wait_for(projected, message="the projector to read the new event")
    assert len(deliveries(subscription["id"])) == 1
    enabled = await client.patch(
        f"/v1/subscriptions/{subscription['id']}", json={"enabled": True}, headers=auth
    )
    assert enabled.json()["enabled"] is True and enabled.json()["disabled_reason"] is None
    ping = await client.post(f"/v1/subscriptions/{subscription['id']}/test", headers=auth)
    assert ping.status_code == 202
    wait_for(lambda: receiver.of_type("ping"), message="a ping after re-enabling")


async def test_metrics_report_the_outbox_depth(client, auth):
    text = (await client.get("/metrics")).text
    assert 'stance_webhook_outbox_depth{status="pending"}' in text
    assert "stance_webhook_attempt_latency_seconds" in text
