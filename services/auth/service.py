"""API keys: random secrets stored only as SHA-256 digests, each with a set of scopes."""

import hashlib
import secrets
import time
import uuid
from collections.abc import Sequence

from sqlalchemy.orm import Session

from services.api.problems import Problem
from services.auth import repository
from services.auth.schemas import ApiKeyCreated, Principal, Scope
from services.models import ApiKey

KEY_PREFIX = "stk_"


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


# Known keys are remembered briefly so a read costs no key lookup; a revocation therefore
# reaches other API processes within this many seconds (this process forgets at once).
KEY_CACHE_SECONDS = 10.0
_known_keys: dict[str, tuple[float, Principal]] = {}


def _cached(key_hash: str) -> Principal | None:
    cached = _known_keys.get(key_hash)
    return cached[1] if cached is not None and cached[0] > time.monotonic() else None


def _load(session: Session, key_hash: str) -> Principal | None:
    row = repository.active_by_hash(session, key_hash)
    if row is None:
        _known_keys.pop(key_hash, None)
        return None
    principal = Principal(key_id=row.id, name=row.name, scopes=row.scopes)  # type: ignore[arg-type]
    if len(_known_keys) > 10_000:
        _known_keys.clear()
    _known_keys[key_hash] = (time.monotonic() + KEY_CACHE_SECONDS, principal)
    return principal


def forget_key(key_id: uuid.UUID) -> None:
    for key_hash, (_, principal) in list(_known_keys.items()):
        if principal.key_id == key_id:
            _known_keys.pop(key_hash, None)
