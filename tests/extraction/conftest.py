"""Fixtures for the extraction tests: one extractor per test session (the model loads once)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from services.extraction.schemas import ArticleText, Claim
from services.extraction.service import Extractor, get_extractor

PUBLISHED = datetime(2025, 3, 20, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def extractor() -> Extractor:
    return get_extractor()


@pytest.fixture(scope="session")
def claims_of(extractor: Extractor) -> Callable[[str], list[Claim]]:
    def run(body: str) -> list[Claim]:
        return extractor.extract(ArticleText(body=body, published_at=PUBLISHED))

    return run


@pytest.fixture(scope="session")
def triples_of(claims_of: Callable[[str], list[Claim]]) -> Callable[[str], set[tuple[str, str, str]]]:
    def run(body: str) -> set[tuple[str, str, str]]:
        return {(c.actor, c.topic, c.stance) for c in claims_of(body)}

    return run
