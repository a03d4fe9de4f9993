"""Opaque cursors: the sort key of the last item a page returned."""

import base64
import json
from collections.abc import Sequence
from typing import Any, TypeVar

from services.api.problems import Problem

T = TypeVar("T")


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


def split_page(rows: Sequence[T], limit: int) -> tuple[list[T], T | None]:
    """The page and its last item when more rows follow, else None.

    Callers fetch `limit + 1` rows: only a row beyond the page proves there is a next page, so a
    full last page does not hand out a cursor to an empty one.
    """
    page = list(rows[:limit])
    return page, (page[-1] if len(rows) > limit and page else None)
