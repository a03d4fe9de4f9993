"""From claims to stance events, and from events to the read tables."""

from datetime import timedelta

from services.articles import service as articles
from services.db import session_scope
from services.eventstore import service as store
from services.positions import projector
from services.positions import repository as positions
from services.stances.events import STANCE_BACKFILLED, STANCE_CHANGED, STANCE_REAFFIRMED
from tests.factories import T0, ScriptedExtractor, article, claim


def project_all(session) -> None:
    while projector.project_batch(session, 100):
        pass


def test_first_claim_changes_then_same_stance_reaffirms_then_new_stance_changes(db_session):
    first = article(db_session, T0, body="first")
    second = article(db_session, T0 + timedelta(days=1), body="second")
    third = article(db_session, T0 + timedelta(days=2), body="third")
    extractor = ScriptedExtractor(
        {
            "first": [claim(stance="oppose")],
            "second": [claim(stance="oppose", quote="Moscow still says no.")],
            "third": [claim(stance="conditional", conditions=["Ukraine renounces NATO"])],
        }
    )
    for row in (first, second, third):
        articles.process(db_session, row.id, extractor)
    events = store.read_stream(db_session, "actor:russia")
    assert [e.type for e in events] == [STANCE_CHANGED, STANCE_REAFFIRMED, STANCE_CHANGED]
    assert events[2].data["previous"] == "oppose"
    assert events[2].metadata["article_id"] == str(third.id)
    project_all(db_session)
    (current,) = positions.list_current(db_session, actors=["russia"])
    assert (current.stance, current.conditions, current.since) == (
        "conditional",
        ["Ukraine renounces NATO"],
        third.published_at,
    )


def test_a_late_article_enters_history_without_moving_the_current_position(db_session):
    newer = article(db_session, T0 + timedelta(days=5), body="newer")
    older = article(db_session, T0, body="older")
    extractor = ScriptedExtractor(
        {"newer": [claim(stance="support")], "older": [claim(stance="oppose", quote="Moscow rejects it.")]}
    )
    articles.process(db_session, newer.id, extractor)
    articles.process(db_session, older.id, extractor)
    assert [e.type for e in store.read_stream(db_session, "actor:russia")] == [
        STANCE_CHANGED,
        STANCE_BACKFILLED,
    ]
    project_all(db_session)
    (current,) = positions.list_current(db_session, actors=["russia"])
    assert current.stance == "support"
    steps = positions.history(db_session, "russia", "ceasefire")
    assert [(s.stance, s.occurred_at) for s in steps] == [
        ("oppose", older.published_at),
        ("support", newer.published_at),
    ]
    as_of_then = positions.list_as_of(db_session, T0 + timedelta(days=1), "russia", "ceasefire")
    assert [row.stance for row in as_of_then] == ["oppose"]


def test_processing_an_article_twice_appends_nothing_the_second_time(db_session):
    row = article(db_session, body="once")
    extractor = ScriptedExtractor({"once": [claim(), claim(actor="ukraine", stance="support")]})
    assert articles.process(db_session, row.id, extractor) is not None
    before = store.read_all(db_session, after=0)
    assert len(before) == 2
    assert articles.process(db_session, row.id, extractor) is None
    assert store.read_all(db_session, after=0) == before
    assert row.status == "processed" and row.events_appended == 2
    assert extractor.calls == 1


def test_an_article_with_no_claims_is_skipped_and_appends_nothing(db_session):
    row = article(db_session, body="nothing")
    articles.process(db_session, row.id, ScriptedExtractor({}))
    assert row.status == "skipped"
    assert store.read_all(db_session, after=0) == []


def test_a_rebuild_from_the_log_equals_the_live_tables(clean_db):
    with session_scope() as session:
        bodies = {}
        for day, stance in enumerate(["oppose", "oppose", "conditional", "support"]):
            row = article(session, T0 + timedelta(days=day), body=f"day {day}")
            bodies[row.body] = [
                claim(stance=stance, quote=f"quote {day}"),
                claim(actor="ukraine", topic="peace-talks"),
            ]
        late = article(session, T0 - timedelta(days=3), body="late")
        bodies["late"] = [claim(stance="support", quote="late quote")]
        extractor = ScriptedExtractor(bodies)
        for body in [*bodies]:
            target = next(a for a in session.query(type(late)).filter_by(body=body))
            articles.process(session, target.id, extractor)
    with session_scope() as session:
        project_all(session)
    with session_scope() as session:
        live = positions.snapshot(session)
    with session_scope() as session:
        replayed = projector.rebuild(session, batch_size=3)
    with session_scope() as session:
        rebuilt = positions.snapshot(session)
    assert replayed == 9
    assert len(live["position_history"]) == 9 and len(live["current_positions"]) == 2
    assert rebuilt == live
