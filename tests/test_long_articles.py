"""A long article is read in bounded pieces, or refused with a reason; quotes stay verbatim."""

import resource
import time
from pathlib import Path

import pytest

from services.articles import service as articles
from services.articles.chunking import pieces
from services.db import session_scope
from services.eventstore import service as store
from services.extraction.schemas import ArticleText, Claim
from services.extraction.service import get_extractor
from services.models import Article
from tests.factories import article

SEED = (Path(__file__).parent / "fixtures" / "coalition-peacekeeping.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "body",
    [
        "a" * 10_000,  # no separator at all: hard cuts
        ("word " * 3000),
        ("Sentence one. " * 900),
        ("para\n\n" * 2000),
        SEED * 20,
    ],
)
def test_pieces_are_bounded_and_join_back_into_the_body(body):
    parts = list(pieces(body, 1_000))
    assert "".join(text for _, text in parts) == body
    assert all(0 < len(text) <= 1_000 for _, text in parts)
    assert [offset for offset, _ in parts] == [sum(len(t) for _, t in parts[:i]) for i in range(len(parts))]
    assert len(parts) <= 2 * len(body) // 1_000 + 1  # cuts never come so early that pieces multiply


class RecordingExtractor:
    """Claims the first sentence of every piece it is given, for russia on the ceasefire."""

    name = "recording"
    version = "1"

    def __init__(self) -> None:
        self.lengths: list[int] = []

    def extract(self, text: ArticleText) -> list[Claim]:
        self.lengths.append(len(text.body))
        quote = text.body[: text.body.index(".") + 1]
        start = 0
        return [
            Claim(
                actor="russia",
                topic="ceasefire",
                stance="support",
                summary="s",
                quote=quote,
                start=start,
                end=start + len(quote),
                confidence=0.5 + len(self.lengths) / 100,
            )
        ]

    def extract_many(self, texts):
        return [self.extract(t) for t in texts]


def test_a_long_body_is_read_in_pieces_with_offsets_into_the_whole(db_session):
    body = "".join(f"Paragraph {i} says Moscow backs the truce.\n\n" for i in range(2_000))
    row = article(db_session, body=body)
    extractor = RecordingExtractor()
    processed = articles.process(db_session, row.id, extractor, piece_chars=5_000)
    assert processed is not None and processed.status == "processed"
    assert len(extractor.lengths) > 1 and max(extractor.lengths) <= 5_000
    (claim,) = processed.claims or []
    # The most confident claim is the last piece's: its offsets point into the whole body.
    assert claim["start"] > 0
    assert body[claim["start"] : claim["end"]] == claim["quote"]


def test_a_body_over_the_hard_limit_is_skipped_with_the_reason(db_session):
    row = article(db_session, body="Moscow backs the truce. " * 2_000)
    extractor = RecordingExtractor()
    processed = articles.process(db_session, row.id, extractor, piece_chars=5_000, max_chars=10_000)
    assert processed is not None and processed.status == "skipped"
    assert "at most 10000" in (processed.error or "") and processed.skip_reason == "too_long"
    assert extractor.lengths == []
    assert store.read_by_article(db_session, str(row.id)) == []
    assert db_session.get(Article, row.id).status == "skipped"


def test_the_real_extractor_on_a_long_article_keeps_quotes_verbatim_and_memory_bounded():
    extractor = get_extractor()
    body = "\n\n".join(SEED for _ in range(12))  # ~10 pieces' worth at 5,000 characters
    started = time.monotonic()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    from services.articles.chunking import extract_in_pieces

    claims = extract_in_pieces(extractor, ArticleText(body=body), 5_000)
    elapsed = time.monotonic() - started
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    assert claims
    for claim in claims:
        assert body[claim.start : claim.end] == claim.quote
    assert len({(c.actor, c.topic, c.stance) for c in claims}) == len(claims)
    assert elapsed < 60 and grown_mb < 300, (elapsed, grown_mb)


def test_process_commits_a_skip(clean_db):
    with session_scope() as session:
        row = article(session, body="x " * 6_000)
    with session_scope() as session:
        articles.process(session, row.id, RecordingExtractor(), max_chars=1_000)
    with session_scope() as session:
        assert session.get(Article, row.id).status == "skipped"
