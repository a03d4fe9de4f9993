"""Opaque cursors: the sort key of the last item a page returned."""

import base64
import json
from typing import Any

from services.api.problems import Problem


def encode_cursor(*key: Any) -> str:
    raw = json.dumps(list(key), separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, arity: int) -> list[Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise Problem(400, "The cursor is not one this API issued; pass `next_cursor` unchanged.") from exc
    if not isinstance(key, list) or len(key) != arity or not all(isinstance(k, str | int) for k in key):
        raise Problem(400, "The cursor is not one this API issued; pass `next_cursor` unchanged.")
    return key
