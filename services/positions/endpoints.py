from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy.orm import Session

from services.api.deps import ReadPrincipal, ReadSessionDep
from services.api.fields import UtcDateTime
from services.api.jsonbody import LimitedJsonRoute
from services.api.pagination import decode_cursor, encode_cursor, split_page
from services.api.problems import NotFound
from services.api.responses import json_bytes
from services.positions import service
from services.positions.cache import ProjectionCache
from services.positions.schemas import (
    ActorOut,
    ActorPage,
    PositionHistoryOut,
    PositionPage,
    Stance,
    TopicPage,
)
from services.positions.service import Names
from services.settings import get_settings

router = APIRouter(prefix="/v1", tags=["positions"], route_class=LimitedJsonRoute)


async def get_names() -> Names:
    return service.names(get_settings())


NamesDep = Annotated[Names, Depends(get_names)]
Limit = Annotated[int, Query(ge=1, le=500, description="Page size.")]


def _utc(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


@router.get(
    "/positions", response_model=PositionPage, summary="Current positions, or as they stood at `as_of`"
)
async def list_positions(
    request: Request,
    session: ReadSessionDep,
    names: NamesDep,
    _: ReadPrincipal,
    actor: Annotated[list[str] | None, Query(description="Actor id; repeat for several.")] = None,
    topic: str | None = None,
    stance: Stance | None = None,
    as_of: Annotated[
        UtcDateTime | None,
        Query(description="ISO 8601 instant between years 1 and 9999 in UTC; positions as they stood then."),
    ] = None,
    cursor: str | None = None,
    limit: Limit = 100,
) -> Response:
    after = decode_cursor(cursor, 2)

    def build() -> PositionPage:
        rows = service.list_positions(
            session,
            names,
            actor,
            topic,
            stance,
            _utc(as_of),
            (after[0], after[1]) if after else None,
            limit + 1,
        )
        items, last = split_page(rows, limit)
        next_cursor = encode_cursor(last.actor, last.topic) if last else None
        return PositionPage(items=items, next_cursor=next_cursor)

    return await cached_response(request, session, build)


@router.get(
    "/positions/{actor}/{topic}/history",
    response_model=PositionHistoryOut,
    summary="The timeline of one actor's stance on one topic, in publication order, with evidence",
)
async def position_history(
    request: Request, actor: str, topic: str, session: ReadSessionDep, names: NamesDep, _: ReadPrincipal
) -> Response:
    def build() -> PositionHistoryOut:
        result = service.position_history(session, names, actor, topic)
        if not result.items and (actor not in names.actors or topic not in names.topics):
            raise NotFound("actor/topic pair", f"{actor}/{topic}")
        return result

    return await cached_response(request, session, build)


@router.get("/actors", response_model=ActorPage, summary="Actors with their current positions")
async def list_actors(
    request: Request,
    session: ReadSessionDep,
    names: NamesDep,
    _: ReadPrincipal,
    cursor: str | None = None,
    limit: Limit = 100,
) -> Response:
    after = decode_cursor(cursor, 1)

    def build() -> ActorPage:
        ids, last = split_page(
            [i for i in service.actor_ids(session, names) if after is None or i > after[0]], limit
        )
        items = service.actors(session, names, ids)
        return ActorPage(items=items, next_cursor=encode_cursor(last) if last else None)

    return await cached_response(request, session, build)


@router.get("/actors/{actor_id}", response_model=ActorOut, summary="One actor and its current positions")
async def get_actor(
    request: Request, actor_id: str, session: ReadSessionDep, names: NamesDep, _: ReadPrincipal
) -> Response:
    def build() -> ActorOut:
        (actor,) = service.actors(session, names, [actor_id])
        if actor_id not in names.actors and not actor.positions:
            raise NotFound("actor", actor_id)
        return actor

    return await cached_response(request, session, build)


@router.get(
    "/topics", response_model=TopicPage, summary="Topics with who supports, opposes or sets conditions"
)
async def list_topics(
    request: Request, session: ReadSessionDep, names: NamesDep, _: ReadPrincipal
) -> Response:
    return await cached_response(request, session, lambda: TopicPage(items=service.topics(session, names)))


async def cached_response(request: Request, session: Session, build: Callable[[], BaseModel]) -> Response:
    key = f"{request.url.path}?{sorted(request.query_params.multi_items())}"
    body = response_cache().peek(key)
    if body is None:
        body = await run_in_threadpool(
            response_cache().get_or_build, session, key, lambda: json_bytes(build())
        )
    return Response(body, media_type="application/json")


@lru_cache
def response_cache() -> ProjectionCache:
    return ProjectionCache(interval=get_settings().read_cache_seconds)
