"""API keys: random secrets stored only as SHA-256 digests, each with a set of scopes."""

import asyncio
import hashlib
import secrets
import time
import uuid
from collections.abc import Sequence

import psycopg
from psycopg import sql
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.api.problems import Problem
from services.auth import repository
from services.auth.schemas import ApiKeyCreated, Principal, Scope
from services.db import after_commit
from services.logging import get_logger
from services.models import ApiKey

KEY_PREFIX = "stk_"
log = get_logger(__name__)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(session: Session, scopes: Sequence[Scope], name: str = "api key") -> ApiKeyCreated:
    prefix = secrets.token_hex(4)
    key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    row = repository.add(
        session,
        ApiKey(id=uuid.uuid4(), name=name, prefix=prefix, key_hash=hash_key(key), scopes=sorted(set(scopes))),
    )
    return ApiKeyCreated(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        scopes=row.scopes,  # type: ignore[arg-type]
        created_at=row.created_at,
        revoked_at=None,
        key=key,
    )


def authorize(session: Session, authorization: str | None, scope: Scope) -> Principal:
    key_hash = _key_hash(authorization)
    principal = _cached(key_hash) or _load(session, key_hash)
    if principal is None:
        raise _unauthorized("This API key is unknown or revoked.")
    return _with_scope(principal, scope)


def authorize_from_cache(authorization: str | None, scope: Scope) -> Principal | None:
    """The principal when the key was seen moments ago, without touching the database."""
    principal = _cached(_key_hash(authorization))
    return _with_scope(principal, scope) if principal is not None else None


def _key_hash(authorization: str | None) -> str:
    if not authorization:
        raise _unauthorized("Send an API key as `Authorization: Bearer <key>`.")
    kind, _, token = authorization.partition(" ")
    if kind.lower() != "bearer" or not token.strip():
        raise _unauthorized("The Authorization header must be `Bearer <key>`.")
    return hash_key(token.strip())


def _with_scope(principal: Principal, scope: Scope) -> Principal:
    if scope not in principal.scopes and "admin" not in principal.scopes:
        raise Problem(403, f"This API key lacks the `{scope}` scope.", title="Forbidden")
    return principal


def _unauthorized(detail: str) -> Problem:
    problem = Problem(401, detail, title="Unauthorized")
    problem.headers = {"WWW-Authenticate": 'Bearer realm="stance"'}
    return problem


# Known keys are remembered so a read costs no key lookup. A revocation is broadcast (NOTIFY, sent
# when the revoking transaction commits) and every API process forgets the key on hearing it. The
# cache is trusted only while this process is listening: without a live listener (not started,
# or its connection lost) every request looks its key up, so a revocation is never missed.
KEY_CACHE_SECONDS = 60.0
REVOCATION_CHANNEL = "stance_api_key_revoked"
LISTENER_HEARTBEAT_SECONDS = 2.0
_known_keys: dict[str, tuple[float, Principal]] = {}
_forgotten = [0]  # bumped on every forgetting, so a lookup racing a revocation caches nothing
_listening = False


def _cached(key_hash: str) -> Principal | None:
    if not _listening:
        return None
    cached = _known_keys.get(key_hash)
    return cached[1] if cached is not None and cached[0] > time.monotonic() else None


def _load(session: Session, key_hash: str) -> Principal | None:
    # A revocation heard while the row was being read must not be undone by caching what was read.
    generation = _forgotten[0]
    row = repository.active_by_hash(session, key_hash)
    if row is None:
        _known_keys.pop(key_hash, None)
        return None
    principal = Principal(key_id=row.id, name=row.name, scopes=row.scopes)  # type: ignore[arg-type]
    if len(_known_keys) > 10_000:
        _known_keys.clear()
    if generation == _forgotten[0]:
        _known_keys[key_hash] = (time.monotonic() + KEY_CACHE_SECONDS, principal)
    return principal


def revoke_key(session: Session, key_id: uuid.UUID) -> bool:
    """Revoke the key; every API process forgets it the moment the transaction commits."""
    if not repository.revoke(session, key_id):
        return False
    session.execute(select(func.pg_notify(REVOCATION_CHANNEL, str(key_id))))
    after_commit(session, lambda: forget_key(key_id))
    return True


async def listen_for_revocations(dsn: str) -> None:
    """Forget revoked keys as their revocations are broadcast, until cancelled.

    A heartbeat query every few seconds proves the connection alive; on any error the cache stops
    being trusted until listening again, and is emptied then (revocations may have been missed).
    """
    global _listening
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as connection:
                await connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(REVOCATION_CHANNEL)))
                _forget_all()
                _listening = True
                log.info("listening for key revocations")
                while True:
                    async for notify in connection.notifies(timeout=LISTENER_HEARTBEAT_SECONDS):
                        _forget_payload(notify.payload)
                    await asyncio.wait_for(connection.execute("SELECT 1"), LISTENER_HEARTBEAT_SECONDS)
        except asyncio.CancelledError:
            _listening = False
            raise
        except (psycopg.Error, OSError, TimeoutError) as exc:
            if _listening:
                log.warning("key revocation listener lost the database; keys are looked up", error=str(exc))
            _listening = False
            _forget_all()
            await asyncio.sleep(1)


def _forget_payload(payload: str) -> None:
    try:
        forget_key(uuid.UUID(payload))
    except ValueError:
        _forget_all()  # not ours to read: forget everything rather than guess


def _forget_all() -> None:
    _forgotten[0] += 1
    _known_keys.clear()


def forget_key(key_id: uuid.UUID) -> None:
    _forgotten[0] += 1
    for key_hash, (_, principal) in list(_known_keys.items()):
        if principal.key_id == key_id:
            _known_keys.pop(key_hash, None)
