import uuid
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError

from services.api.deps import IngestPrincipal, ReadPrincipal, ReadSessionDep, SessionDep, SettingsDep
from services.api.jsonbody import LimitedJsonRoute, parse_json
from services.api.problems import NotFound, Problem
from services.articles import repository, service
from services.articles.schemas import (
    ArticleAccepted,
    ArticleBatchAccepted,
    ArticleBatchIn,
    ArticleDetail,
    ArticleIn,
    ArticleLinks,
)
from services.articles.service import IngestResult, InvalidArticle
from services.articles.text import UnreadableText, decode_utf8, html_to_text
from services.eventstore import service as event_store
from services.models import Article

router = APIRouter(prefix="/v1", tags=["articles"], route_class=LimitedJsonRoute)

# The article fields a text/plain or text/html body takes from the query string.
_QUERY_FIELDS = ("title", "url", "source", "published_at", "published_at_fallback")
_JSON_SCHEMA_REF = {"$ref": "#/components/schemas/ArticleIn"}
_ARTICLE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": _JSON_SCHEMA_REF},
            "text/plain": {"schema": {"type": "string"}},
            "text/html": {"schema": {"type": "string"}},
        },
    },
    "parameters": [
        {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
        for name in _QUERY_FIELDS
    ],
}
_BATCH_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ArticleBatchIn"}}},
    }
}
# Read by the endpoints themselves, so the OpenAPI document is told about them (services.api.openapi).
OPENAPI_BODY_MODELS = (ArticleIn, ArticleBatchIn)
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


def _links(article_id: uuid.UUID) -> ArticleLinks:
    return ArticleLinks(self=f"/v1/articles/{article_id}")


def _accepted(result: IngestResult) -> ArticleAccepted:
    article = result.article
    return ArticleAccepted(
        id=article.id,
        status=article.status,  # type: ignore[arg-type]
        created=result.created,
        links=_links(article.id),
    )


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise Problem(413, f"The request body is over the {limit}-byte limit.")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Problem(413, f"The request body is over the {limit}-byte limit.")
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_json(raw: bytes) -> Any:
    try:
        text = decode_utf8(raw)
    except UnreadableText as exc:
        raise Problem(400, str(exc)) from exc
    return parse_json(text)


def _check_article_sizes(payload: Any, limit: int) -> None:
    """Each article of a batch is held to the limit it would meet alone, so a batch is no way around it."""
    articles = payload.get("articles") if isinstance(payload, dict) else None
    if not isinstance(articles, list):
        return
    for index, article in enumerate(articles):
        if len(orjson.dumps(article)) > limit:
            raise Problem(
                413, f"articles[{index}] is over the {limit}-byte limit of one article; split it up."
            )


def _validation_problem(exc: ValidationError) -> Problem:
    errors = [
        {"loc": [str(p) for p in err["loc"]], "msg": err["msg"]}
        for err in exc.errors(include_url=False, include_input=False)
    ]
    detail = "; ".join(f"{'.'.join(e['loc']) or 'body'}: {e['msg']}" for e in errors)
    return Problem(422, detail, title="Invalid article", errors=errors)


async def _article_from_request(request: Request, limit: int) -> ArticleIn:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await _read_body(request, limit)
    if media_type == "application/json":
        payload = _parse_json(raw)
        if not isinstance(payload, dict):
            raise Problem(
                422, "The JSON body must be an object with at least `body`.", title="Invalid article"
            )
    elif media_type in ("text/plain", "text/html"):
        try:
            text = decode_utf8(raw)
            title = None
            if media_type == "text/html":
                text, title = html_to_text(text)
        except UnreadableText as exc:
            raise Problem(422, str(exc), title="Invalid article") from exc
        payload = {k: v for k, v in request.query_params.items() if k in _QUERY_FIELDS}
        payload["body"] = text
        payload.setdefault("title", title)
    else:
        raise Problem(
            415,
            f"Unsupported content type {media_type or '(none)'!r}; "
            "send application/json, text/plain or text/html.",
        )
    try:
        return ArticleIn.model_validate(payload)
    except ValidationError as exc:
        raise _validation_problem(exc) from exc


def _ingest(session: Any, articles: list[ArticleIn], settings: Any, key: str | None) -> list[IngestResult]:
    try:
        return service.ingest(session, articles, settings.min_article_chars, key)
    except InvalidArticle as exc:
        raise Problem(422, str(exc), title="Invalid article") from exc


@router.post(
    "/articles",
    response_model=ArticleAccepted,
    status_code=202,
    openapi_extra=_ARTICLE_BODY,
    responses={200: {"model": ArticleAccepted, "description": "Already stored; nothing was created."}},
    summary="Submit an article for stance extraction",
)
async def create_article(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    _: IngestPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> ArticleAccepted:
    article = await _article_from_request(request, settings.max_article_bytes)
    (result,) = await run_in_threadpool(_ingest, session, [article], settings, idempotency_key)
    response.status_code = 202 if result.created else 200
    response.headers["Location"] = f"/v1/articles/{result.article.id}"
    return _accepted(result)


@router.post(
    "/articles/batch",
    response_model=ArticleBatchAccepted,
    status_code=202,
    openapi_extra=_BATCH_BODY,
    summary="Submit up to 100 articles at once; one invalid article stores none",
)
async def create_articles(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    _: IngestPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> ArticleBatchAccepted:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise Problem(415, 'A batch is JSON: {"articles": [{"body": ...}, ...]}.')
    limit = settings.max_article_bytes * settings.max_batch_articles
    payload = _parse_json(await _read_body(request, limit))
    _check_article_sizes(payload, settings.max_article_bytes)
    try:
        batch = ArticleBatchIn.model_validate(payload)
    except ValidationError as exc:
        raise _validation_problem(exc) from exc
    if len(batch.articles) > settings.max_batch_articles:
        raise Problem(422, f"A batch holds at most {settings.max_batch_articles} articles.")
    results = await run_in_threadpool(_ingest, session, batch.articles, settings, idempotency_key)
    return ArticleBatchAccepted(items=[_accepted(r) for r in results])


@router.get(
    "/articles/{article_id}", response_model=ArticleDetail, summary="An article, its claims and events"
)
def get_article(article_id: uuid.UUID, session: ReadSessionDep, _: ReadPrincipal) -> ArticleDetail:
    article: Article | None = repository.get(session, article_id)
    if article is None:
        raise NotFound("article", article_id)
    return ArticleDetail(
        id=article.id,
        status=article.status,  # type: ignore[arg-type]
        title=article.title,
        url=article.url,
        source=article.source,
        language=article.language,
        published_at=article.published_at,
        published_at_inferred=article.published_at_inferred,
        published_at_fallback=article.published_at_fallback,  # type: ignore[arg-type]
        created_at=article.created_at,
        processed_at=article.processed_at,
        attempts=article.attempts,
        skip_reason=article.skip_reason,  # type: ignore[arg-type]
        error=article.error,
        extractor=article.extractor,
        claims=article.claims or [],
        events=event_store.read_by_article(session, str(article.id)),
        links=_links(article.id),
    )
