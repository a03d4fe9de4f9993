"""The extractor interface the rest of the service calls."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from services.extraction.domain import load_domain_pack
from services.extraction.learned import DecisionModel, LearnedExtractor, model_path
from services.extraction.model import load_nlp
from services.extraction.pipeline import RulesExtractor
from services.extraction.schemas import ArticleText, Claim, DomainPack


@runtime_checkable
class Extractor(Protocol):
    name: str
    version: str

    def extract(self, article: ArticleText) -> list[Claim]: ...

    def extract_many(self, articles: Sequence[ArticleText]) -> list[list[Claim]]: ...


_extractors: dict[Path | None, Extractor] = {}
_lock = threading.Lock()


def rules_only(pack_path: Path | str | None = None) -> Extractor:
    """The rules without the learned decision: for comparison and for packs with no trained model."""
    return RulesExtractor(load_domain_pack(pack_path), load_nlp())


def get_extractor(pack_path: Path | str | None = None) -> Extractor:
    """The process-wide extractor for a domain pack; the spaCy model is loaded once and shared."""
    key = Path(pack_path).expanduser().resolve() if pack_path is not None else None
    with _lock:
        extractor = _extractors.get(key)
        if extractor is None:
            extractor = build_extractor(load_domain_pack(key))
            _extractors[key] = extractor
        return extractor


def build_extractor(pack: DomainPack) -> Extractor:
    """The learned extractor when a decision model was trained for this pack, else the rules alone."""
    rules = RulesExtractor(pack, load_nlp())
    path = model_path(pack)
    if not path.is_file():
        return rules
    return LearnedExtractor(rules, DecisionModel.load(path))
