"""RFC 9457 problem details for every error the API returns."""

import re
from functools import lru_cache
from http import HTTPStatus
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.logging import get_logger

PROBLEM_MEDIA_TYPE = "application/problem+json"
DATABASE_RETRY_AFTER_SECONDS = 2
log = get_logger(__name__)


class Problem(Exception):
    def __init__(self, status: int, detail: str, title: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title or HTTPStatus(status).phrase
        self.extra = extra
        self.headers: dict[str, str] = {}


class NotFound(Problem):
    def __init__(self, what: str, key: object) -> None:
        super().__init__(404, f"No {what} with id {key!s}.", title="Not found")


def problem_response(
    status: int,
    title: str,
    detail: str,
    request: Request,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _allowed_methods(request: Request) -> list[str] | None:
    """Every method the OpenAPI document lists for this path, or None for a path it does not list.

    Starlette's 405 names only the methods of the first route whose path matched, so
    `/v1/subscriptions/{id}` (GET, PATCH and DELETE on three routes) answered `Allow: GET`.
    """
    path = request.url.path
    methods: set[str] = set()
    for template, operations in request.app.openapi().get("paths", {}).items():
        if _path_pattern(template).fullmatch(path):
            methods.update(method.upper() for method in operations if method.upper() in _HTTP_METHODS)
    if not methods:
        return None
    if "GET" in methods:
        methods.add("HEAD")  # Starlette serves HEAD wherever it serves GET
    return sorted(methods)


_HTTP_METHODS = frozenset({"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"})


@lru_cache(maxsize=256)
def _path_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts))


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc.status, exc.title, exc.detail, request, exc.headers, **exc.extra)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        phrase = HTTPStatus(exc.status_code).phrase
        detail = exc.detail if isinstance(exc.detail, str) else phrase
        headers = dict(exc.headers or {})
        if exc.status_code == 405 and (allowed := _allowed_methods(request)):
            headers["Allow"] = ", ".join(allowed)
        return problem_response(exc.status_code, phrase, detail, request, headers)

    async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
        # The database is down, restarting, or refusing connections (or a statement was cancelled,
        # a deadlock broken): a condition of the service, not of the request, and a passing one.
        # Pooled connections are pinged before use (services.db), so once it is back the next
        # request gets a fresh connection without restarting the API.
        log.warning("database unavailable", path=request.url.path, error=str(exc).splitlines()[0][:300])
        return problem_response(
            503,
            "Service Unavailable",
            "The database is unavailable; try again shortly.",
            request,
            {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        )

    for error in (OperationalError, InterfaceError, PoolTimeout, psycopg.OperationalError):
        app.add_exception_handler(error, _database_unavailable)

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError) -> JSONResponse:
        # PostgreSQL refuses NUL characters in text; no field of ours can hold one, so it is the
        # request that is wrong (and its transaction has rolled back: nothing was stored).
        if "NUL" in str(exc.orig):
            detail = "A text field contains a NUL character (\\u0000); remove it."
            return problem_response(422, "Invalid request", detail, request)
        raise exc

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": [str(part) for part in err.get("loc", ())], "msg": err.get("msg", "")}
            for err in exc.errors()
        ]
        detail = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors) or "Invalid request."
        return problem_response(422, "Invalid request", detail, request, errors=errors)
