"""Reading JSON request bodies within limits the API states, so hostile JSON is a 400, never a 500.

The standard library's parser turns some valid-looking JSON into errors that are not
`JSONDecodeError` (integers over 4,300 digits, nesting deeper than the interpreter's recursion
limit) and accepts lone surrogate escapes (`"\\ud800"`) that no UTF-8 column can store. orjson
refuses lone surrogates and out-of-range numbers itself; the depth limit is checked here, well
below orjson's own 1,024, because no body of this API nests deeper than a few levels.
"""

from typing import Any

import orjson
from fastapi import HTTPException, Request
from fastapi.routing import APIRoute
from starlette.responses import Response

from services.api.problems import Problem

MAX_JSON_DEPTH = 32
JSON_LIMITS = (
    f"JSON bodies nest at most {MAX_JSON_DEPTH} levels deep; numbers must fit a 64-bit float "
    "(integers beyond 2^64 lose precision, beyond about 1e308 are refused); text must be valid "
    "Unicode (no lone surrogate escapes such as \\ud800)."
)


def parse_json(raw: bytes | str) -> Any:
    """The decoded document, or a 400 Problem saying which limit the body broke."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise Problem(400, _explain(exc)) from exc
    if _depth_exceeds(value, MAX_JSON_DEPTH):
        raise Problem(400, f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep.")
    return value


def _explain(exc: orjson.JSONDecodeError) -> str:
    message = exc.msg
    if "surrogate" in message:
        return (
            "The JSON text contains a lone surrogate escape (such as \\ud800), which is not valid "
            "Unicode; send each character whole (a pair \\ud83d\\ude00 is fine)."
        )
    if "infinity" in message:
        return (
            "A number in the JSON body is too large (hundreds of digits or more); "
            "numbers must fit a 64-bit float."
        )
    if "depth limit" in message or "recursion" in message.lower():
        return f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep."
    return f"Malformed JSON at line {exc.lineno}, column {exc.colno}: {message}."


def _depth_exceeds(value: Any, limit: int) -> bool:
    # Iterative, so a deep document cannot exhaust the interpreter's stack here either.
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class LimitedJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            try:
                self._json = parse_json(await self.body())
            except Problem as exc:
                # FastAPI lets only its HTTPException through body parsing; any other error
                # becomes a generic 400 that does not say which limit was broken.
                raise HTTPException(exc.status, exc.detail) from exc
        return self._json


class LimitedJsonRoute(APIRoute):
    """A route whose JSON body FastAPI parses with `parse_json`; its Problem passes through as is."""

    def get_route_handler(self):  # type: ignore[no-untyped-def]
        handler = super().get_route_handler()

        async def route_handler(request: Request) -> Response:
            return await handler(LimitedJsonRequest(request.scope, request.receive))

        return route_handler
