"""API keys: random secrets stored only as SHA-256 digests, each with a set of scopes."""

import hashlib
import secrets
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
    row = repository.active_by_hash(session, hash_key(token.strip()))
    if row is None:
        problem = Problem(401, "This API key is unknown or revoked.", title="Unauthorized")
        problem.headers = challenge
        raise problem
    if scope not in row.scopes and "admin" not in row.scopes:
        raise Problem(403, f"This API key lacks the `{scope}` scope.", title="Forbidden")
    return Principal(key_id=row.id, name=row.name, scopes=row.scopes)  # type: ignore[arg-type]
