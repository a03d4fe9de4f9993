"""Re-creating deliveries from the event log, e.g. after a receiver's outage."""

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy.orm import Session

from services.eventstore import service as event_store
from services.models import WebhookSubscription
from services.positions.changes import PositionChange
from services.stances.events import STANCE_CHANGED, STANCE_EVENT_TYPES, actor_of, stream_id_for

READ_BATCH = 1000


def changes_since(
    session: Session,
    subscription: WebhookSubscription,
    since_position: int | None,
    since_time: datetime | None,
) -> Iterator[PositionChange]:
    """Every position change after `since` (an event position, or a time the event was recorded).

    The stance events are folded from the start of the log with the projector's own fold, so a
    replayed `previous`/`current` is exactly what the original delivery said.
    """
    # Imported here: the projector imports the webhook service, which must not import it back.
    from services.positions import repository as positions
    from services.positions.projector import (  # the same fold as the live path
        PROJECTION_NAME,
        apply_event,
        position_summary_or_none,
    )

    # Only what the projector has already handed to the outbox; what follows is still on its way.
    projected = positions.checkpoint(session, PROJECTION_NAME)
    streams = [stream_id_for(actor) for actor in subscription.actors] or None
    state: dict[tuple[str, str], dict] = {}  # type: ignore[type-arg]
    after = 0
    while True:
        events = event_store.read_all(
            session, after=after, limit=READ_BATCH, types=STANCE_EVENT_TYPES, stream_ids=streams
        )
        for event in events:
            if event.position > projected:
                return
            key = (actor_of(event.stream_id), event.data["topic"])
            before = state.get(key)
            current = apply_event(before, event, key)
            if current is None or current is before:
                continue
            state[key] = current
            recent = (since_position is None or event.position > since_position) and (
                since_time is None or event.recorded_at > since_time
            )
            if event.type == STANCE_CHANGED and recent:
                yield PositionChange(
                    key[0],
                    key[1],
                    position_summary_or_none(before),
                    position_summary_or_none(current) or {},
                    event,
                )
        if len(events) < READ_BATCH:
            return
        after = events[-1].position
