from typing import Annotated, Literal

from fastapi import APIRouter, Query

from services.api.deps import ReadPrincipal, ReadSessionDep
from services.api.jsonbody import LimitedJsonRoute
from services.api.pagination import split_page
from services.eventstore import service
from services.eventstore.schemas import EventPage
from services.stances.events import stream_id_for

EventType = Literal["StanceChanged", "StanceReaffirmed", "StanceBackfilled"]
router = APIRouter(prefix="/v1", tags=["events"], route_class=LimitedJsonRoute)


@router.get("/events", response_model=EventPage, summary="The event log, in global position order")
def list_events(
    session: ReadSessionDep,
    _: ReadPrincipal,
    after: Annotated[
        int, Query(ge=0, le=2**63 - 1, description="Global position to read after (a `next_cursor`).")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    type: Annotated[list[EventType] | None, Query(description="Event type; repeat for several.")] = None,
    actor: Annotated[list[str] | None, Query(description="Actor id; repeat for several.")] = None,
) -> EventPage:
    streams = [stream_id_for(a) for a in actor] if actor else None
    rows = service.read_all(session, after=after, limit=limit + 1, types=type, stream_ids=streams)
    items, last = split_page(rows, limit)
    return EventPage(items=items, next_cursor=str(last.position) if last else None)
