"""The event store's contract: optimistic concurrency, contiguous streams, a gap-free global log."""

import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from services.db import session_scope
from services.eventstore import service as store
from services.eventstore.service import WrongExpectedVersion
from tests.factories import new_event


def test_append_to_a_new_stream_numbers_versions_from_one(db_session):
    recorded = store.append(db_session, "actor:a", 0, [new_event(0), new_event(1)])
    assert [e.stream_version for e in recorded] == [1, 2]
    assert recorded[0].position < recorded[1].position
    assert [e.data["index"] for e in store.read_stream(db_session, "actor:a")] == [0, 1]


def test_append_with_a_stale_expected_version_is_refused(db_session):
    store.append(db_session, "actor:a", 0, [new_event(0)])
    with pytest.raises(WrongExpectedVersion) as raised:
        store.append(db_session, "actor:a", 0, [new_event(1)])
    assert (raised.value.expected, raised.value.actual) == (0, 1)
    assert len(store.read_stream(db_session, "actor:a")) == 1


def test_append_ahead_of_the_stream_is_refused(db_session):
    with pytest.raises(WrongExpectedVersion):
        store.append(db_session, "actor:b", 3, [new_event(0)])


def test_the_log_refuses_update_and_delete(clean_db):
    with session_scope() as session:
        store.append(session, "actor:a", 0, [new_event(0)])
    for statement in ("UPDATE events SET type = 'X'", "DELETE FROM events"):
        with pytest.raises(DBAPIError, match="append-only"), session_scope() as session:
            session.execute(text(statement))
    with session_scope() as session:
        assert len(store.read_stream(session, "actor:a")) == 1


def test_two_writers_racing_on_one_stream_one_wins(clean_db):
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def writer(index: int) -> None:
        with session_scope() as session:
            version = len(store.read_stream(session, "actor:race"))
            barrier.wait()
            try:
                store.append(session, "actor:race", version, [new_event(index)])
                outcomes.append("appended")
            except WrongExpectedVersion:
                outcomes.append("conflict")

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["appended", "conflict"]
    with session_scope() as session:
        assert [e.stream_version for e in store.read_stream(session, "actor:race")] == [1]


def test_concurrent_writers_and_a_tailing_reader_see_every_event_once_in_order(clean_db):
    writers, appends_each, streams = 8, 40, 12
    done = threading.Event()
    seen: list[int] = []
    errors: list[BaseException] = []

    def write(writer_id: int) -> None:
        try:
            for n in range(appends_each):
                stream = f"actor:s{(writer_id * 7 + n) % streams}"
                while True:
                    try:
                        with session_scope() as session:
                            version = len(store.read_stream(session, stream))
                            store.append(session, stream, version, [new_event(n, writer=writer_id)])
                            # Hold the transaction open a moment so commits interleave with reads.
                            time.sleep(0.001 * (n % 3))
                        break
                    except WrongExpectedVersion:
                        continue
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    def tail() -> None:
        checkpoint = 0
        while True:
            finished = done.is_set()
            with session_scope() as session:
                batch = store.read_all(session, after=checkpoint, limit=50)
            for event in batch:
                seen.append(event.position)
                checkpoint = event.position
            if finished and not batch:
                return

    reader = threading.Thread(target=tail)
    reader.start()
    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    reader.join()

    assert not errors
    with session_scope() as session:
        everything = [e.position for e in store.read_all(session, after=0, limit=100_000)]
        versions = {
            stream: [e.stream_version for e in store.read_stream(session, stream)]
            for stream in {f"actor:s{i}" for i in range(streams)}
        }
    assert len(everything) == writers * appends_each
    assert seen == everything, "the tailing reader skipped, repeated or reordered events"
    assert seen == sorted(seen)
    for stream_versions in versions.values():
        assert stream_versions == list(range(1, len(stream_versions) + 1))
