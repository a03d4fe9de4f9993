"""The event store: per-stream optimistic concurrency over one append-only, totally ordered log."""

from collections.abc import Sequence

from sqlalchemy.orm import Session

from services.eventstore import repository
from services.eventstore.schemas import NewEvent, RecordedEvent


class WrongExpectedVersion(Exception):
    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        super().__init__(f"stream {stream_id!r} is at version {actual}, expected {expected}")
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


def append(
    session: Session, stream_id: str, expected_version: int, events: Sequence[NewEvent]
) -> list[RecordedEvent]:
    """Append `events` to a stream that must be at `expected_version` (0 for a new stream).

    Takes the append lock for the rest of the transaction; the caller's unit of work commits.
    Raises WrongExpectedVersion before writing anything when another writer got there first.
    """
    if not events:
        return []
    repository.lock_for_append(session)
    actual = repository.stream_version(session, stream_id)
    if actual != expected_version:
        raise WrongExpectedVersion(stream_id, expected_version, actual)
    return repository.insert_events(session, stream_id, expected_version + 1, events)


def read_stream(session: Session, stream_id: str) -> list[RecordedEvent]:
    return repository.read_stream(session, stream_id)


def read_all(
    session: Session,
    after: int = 0,
    limit: int = 1000,
    types: Sequence[str] | None = None,
    stream_ids: Sequence[str] | None = None,
) -> list[RecordedEvent]:
    return repository.read_all(session, after, limit, types, stream_ids)


def read_by_article(session: Session, article_id: str) -> list[RecordedEvent]:
    return repository.read_by_article(session, article_id)


def causations_present(session: Session, causation_ids: Sequence[str]) -> set[str]:
    return repository.causations_present(session, causation_ids)
