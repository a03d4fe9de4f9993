"""The projector: folds the global event log into the current-position and history tables.

Each batch runs in the caller's transaction: read rows, outbox rows and the checkpoint move
together or not at all, so a crash replays a batch instead of skipping or doubling it.
"""

from typing import Any

from sqlalchemy.orm import Session

from services.eventstore import service as event_store
from services.eventstore.schemas import RecordedEvent
from services.positions import repository
from services.positions.changes import PositionChange
from services.stances.events import (
    STANCE_BACKFILLED,
    STANCE_CHANGED,
    STANCE_EVENT_TYPES,
    STANCE_REAFFIRMED,
    actor_of,
)
from services.webhooks.service import record_position_changes

PROJECTION_NAME = "positions"


def project_batch(session: Session, batch_size: int, notify: bool = True) -> int:
    """Project up to `batch_size` events after the checkpoint; returns how many were read."""
    repository.lock_projector(session)
    after = repository.checkpoint(session, PROJECTION_NAME)
    events = event_store.read_all(session, after=after, limit=batch_size)
    if not events:
        return 0
    stance_events = [e for e in events if e.type in STANCE_EVENT_TYPES]
    keys = {(actor_of(e.stream_id), e.data["topic"]) for e in stance_events}
    current = repository.current_for(session, keys)
    touched: dict[tuple[str, str], dict[str, Any]] = {}
    history_rows: list[dict[str, Any]] = []
    changes: list[PositionChange] = []
    for event in stance_events:
        key = (actor_of(event.stream_id), event.data["topic"])
        history_rows.append(_history_row(event, key))
        before = current.get(key)
        after_row = apply_event(before, event, key)
        if after_row is None or after_row is before:
            continue
        current[key] = touched[key] = after_row
        if event.type == STANCE_CHANGED:
            changes.append(
                PositionChange(
                    key[0], key[1], position_summary_or_none(before), position_summary(after_row), event
                )
            )
    repository.insert_history(session, history_rows)
    repository.upsert_current(session, list(touched.values()))
    if notify and changes:
        record_position_changes(session, changes)
    repository.set_checkpoint(session, PROJECTION_NAME, events[-1].position)
    return len(events)


def rebuild(session: Session, batch_size: int) -> int:
    """Replay the whole log into emptied tables, in one transaction, telling no subscriber."""
    repository.lock_projector(session)
    repository.clear(session)
    repository.set_checkpoint(session, PROJECTION_NAME, 0)
    replayed = 0
    while True:
        count = project_batch(session, batch_size, notify=False)
        replayed += count
        if count < batch_size:
            return replayed


def apply_event(
    before: dict[str, Any] | None, event: RecordedEvent, key: tuple[str, str]
) -> dict[str, Any] | None:
    data = event.data
    if event.type == STANCE_CHANGED:
        return {
            "actor": key[0],
            "topic": key[1],
            "stance": data["stance"],
            "conditions": data.get("conditions", []),
            "summary": data.get("summary", ""),
            "confidence": data.get("confidence", 0.0),
            "evidence": data["evidence"],
            "since": event.occurred_at,
            "last_observed_at": max(event.occurred_at, before["last_observed_at"])
            if before
            else event.occurred_at,
            "event_position": event.position,
            "observations": 1,
        }
    if event.type == STANCE_REAFFIRMED and before is not None:
        return {
            **before,
            "conditions": data.get("conditions", before["conditions"]),
            "summary": data.get("summary", before["summary"]),
            "confidence": data.get("confidence", before["confidence"]),
            "evidence": data["evidence"],
            "last_observed_at": max(event.occurred_at, before["last_observed_at"]),
            "event_position": event.position,
            "observations": before["observations"] + 1,
        }
    if event.type == STANCE_BACKFILLED:
        return before
    return before


def _history_row(event: RecordedEvent, key: tuple[str, str]) -> dict[str, Any]:
    data = event.data
    return {
        "event_position": event.position,
        "actor": key[0],
        "topic": key[1],
        "kind": event.type,
        "stance": data["stance"],
        "previous": data.get("previous"),
        "conditions": data.get("conditions", []),
        "summary": data.get("summary", ""),
        "confidence": data.get("confidence", 0.0),
        "evidence": data["evidence"],
        "occurred_at": event.occurred_at,
    }


def position_summary_or_none(row: dict[str, Any] | None) -> dict[str, Any] | None:
    return position_summary(row) if row is not None else None


def position_summary(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "stance": row["stance"],
        "conditions": row["conditions"],
        "summary": row["summary"],
        "confidence": row["confidence"],
        "since": row["since"].isoformat(),
    }
