"""Webhook signing secrets are stored encrypted, readable after a key rotation, and migrated."""

import uuid

import psycopg
import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import create_engine, text

from services import secrets
from services.db import session_scope
from services.migrate import upgrade
from services.models import WebhookSubscription
from services.settings import get_settings
from services.webhooks.repository import reencrypt_secrets
from tests.conftest import _libpq, _state, _with_database


def stored_secret(subscription_id: str) -> str:
    with session_scope() as session:
        return session.execute(
            text("SELECT secret FROM webhook_subscriptions WHERE id = :id"), {"id": subscription_id}
        ).scalar_one()


@pytest.fixture
def use_keys(monkeypatch):
    def configure(*keys: bytes) -> None:
        monkeypatch.setenv("STANCE_SECRET_KEYS", ",".join(k.decode() for k in keys))
        get_settings.cache_clear()
        secrets.cipher.cache_clear()

    yield configure
    monkeypatch.delenv("STANCE_SECRET_KEYS", raising=False)
    get_settings.cache_clear()
    secrets.cipher.cache_clear()


async def test_a_secret_is_stored_encrypted_and_shown_in_plain_once(client, auth):
    created = await client.post("/v1/subscriptions", json={"url": "https://hooks.example/"}, headers=auth)
    assert created.status_code == 201, created.text
    plain = created.json()["secret"]
    assert plain.startswith("whsec_")
    stored = stored_secret(created.json()["id"])
    assert plain not in stored and not stored.startswith("whsec_")
    assert secrets.cipher().decrypt(stored.encode()).decode() == plain
    with session_scope() as session:
        assert session.get(WebhookSubscription, uuid.UUID(created.json()["id"])).secret == plain
    assert (
        "secret" not in (await client.get(f"/v1/subscriptions/{created.json()['id']}", headers=auth)).json()
    )


async def test_keys_rotate_without_losing_a_secret(client, auth, use_keys):
    old, new = Fernet.generate_key(), Fernet.generate_key()
    use_keys(old)
    created = await client.post("/v1/subscriptions", json={"url": "https://hooks.example/"}, headers=auth)
    subscription_id, plain = created.json()["id"], created.json()["secret"]
    rotated = await client.post(f"/v1/subscriptions/{subscription_id}/rotate-secret", headers=auth)
    assert rotated.status_code == 200, rotated.text
    current = rotated.json()["secret"]

    use_keys(new, old)  # the new key first: it encrypts, both decrypt
    with session_scope() as session:
        row = session.get(WebhookSubscription, uuid.UUID(subscription_id))
        assert (row.secret, row.previous_secret) == (current, plain)
    with session_scope() as session:
        assert reencrypt_secrets(session) == 1
    token = stored_secret(subscription_id)
    assert Fernet(new).decrypt(token.encode()).decode() == current
    with pytest.raises(InvalidToken):
        Fernet(old).decrypt(token.encode())

    use_keys(new)  # the old key dropped: everything still reads
    with session_scope() as session:
        row = session.get(WebhookSubscription, uuid.UUID(subscription_id))
        assert (row.secret, row.previous_secret) == (current, plain)

    use_keys(Fernet.generate_key())  # a wrong key is a clear error, not garbage
    with session_scope() as session, pytest.raises(secrets.SecretKeyError):
        session.get(WebhookSubscription, uuid.UUID(subscription_id))


def test_the_migration_encrypts_secrets_stored_in_plain():
    name = f"stance_secrets_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_libpq(_state["admin_url"]), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(_state["admin_url"], name)
    engine = create_engine(url)
    try:
        upgrade(url, "0004")
        plain = "whsec_" + "A" * 43 + "="
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO webhook_subscriptions (id, url, actors, topics, event_types, secret,"
                    " previous_secret, enabled) VALUES (:id, 'https://h.example/', '{}', '{}', '{}',"
                    " :secret, :previous, true)"
                ),
                {"id": uuid.uuid4(), "secret": plain, "previous": plain.replace("A", "B")},
            )
        upgrade(url)
        with engine.connect() as connection:
            secret, previous = connection.execute(
                text("SELECT secret, previous_secret FROM webhook_subscriptions")
            ).one()
        assert secrets.decrypt(secret) == plain and not secret.startswith("whsec_")
        assert secrets.decrypt(previous) == plain.replace("A", "B") and not previous.startswith("whsec_")
    finally:
        engine.dispose()
        with psycopg.connect(_libpq(_state["admin_url"]), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
