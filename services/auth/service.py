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
    challenge = {"WWW-Authenticate": 'Bearer realm="stance"'}
    if not authorization:
        problem = Problem(401, "Send an API key as `Authorization: Bearer <key>`.", title="Unauthorized")
        problem.headers = challenge
        raise problem
    kind, _, token = authorization.partition(" ")
    if kind.lower() != "bearer" or not token.strip():
        problem = Problem(401, "The Authorization header must be `Bearer <key>`.", title="Unauthorized")
        problem.headers = challenge
        raise problem
    principal = _principal_for(session, hash_key(token.strip()))
    if principal is None:
        problem = Problem(401, "This API key is unknown or revoked.", title="Unauthorized")
        problem.headers = challenge
        raise problem
    if scope not in principal.scopes and "admin" not in principal.scopes:
        raise Problem(403, f"This API key lacks the `{scope}` scope.", title="Forbidden")
    return principal


# Known keys are remembered briefly so a read costs no key lookup; a revocation therefore
# reaches other API processes within this many seconds (this process forgets at once).
KEY_CACHE_SECONDS = 10.0
_known_keys: dict[str, tuple[float, Principal]] = {}


def _principal_for(session: Session, key_hash: str) -> Principal | None:
    cached = _known_keys.get(key_hash)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
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
