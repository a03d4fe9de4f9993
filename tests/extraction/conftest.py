"""Fixtures for the extraction tests: one extractor per test session (the model loads once)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from services.extraction.domain import load_domain_pack
from services.extraction.model import load_nlp
from services.extraction.pipeline import RulesExtractor
from services.extraction.schemas import ArticleText, Claim
from services.extraction.service import Extractor, get_extractor

PUBLISHED = datetime(2025, 3, 20, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def extractor() -> Extractor:
    return get_extractor()


@pytest.fixture(scope="session")
def rules_extractor() -> RulesExtractor:
    return RulesExtractor(load_domain_pack(), load_nlp())


@pytest.fixture(scope="session")
def claims_of(rules_extractor: RulesExtractor) -> Callable[[str], list[Claim]]:
    """The rules' reading of one text: each named rule is a stage whose output the decision weighs."""

    def run(body: str) -> list[Claim]:
        return rules_extractor.extract(ArticleText(body=body, published_at=PUBLISHED))

    return run


@pytest.fixture(scope="session")
def triples_of(claims_of: Callable[[str], list[Claim]]) -> Callable[[str], set[tuple[str, str, str]]]:
    def run(body: str) -> set[tuple[str, str, str]]:
        return {(c.actor, c.topic, c.stance) for c in claims_of(body)}

    return run
