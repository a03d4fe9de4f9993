"""The default extractor: the rules' reading of each sentence, decided by a learned model.

Stages, in order: parse (spaCy) → read (actor mentions, topic cues, the rules' sentence claims:
`pipeline.RulesExtractor.read_doc`) → paraphrased topics (`topics.TopicModel`) → candidates
(`candidates.find_candidates`) → features (`features.candidate_features`) → decision
(`decision.LinearDecision`, one stance or none per actor and topic of the article) → conditions
(`RulesExtractor.conditions_of`) → claims with the sentence as verbatim evidence.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc

from services.extraction.candidates import Candidate, find_candidates
from services.extraction.decision import LinearDecision, aggregate
from services.extraction.features import candidate_features
from services.extraction.pipeline import BATCH_SIZE, DocReading, RulesExtractor, quote_of
from services.extraction.schemas import ArticleText, Claim, DomainPack
from services.extraction.topics import TopicModel

MODELS_DIR = Path(__file__).parent / "models"
# A pair the decision leaves without a stance takes the rules' reading when the rules are this sure
# (a named speaker, unhedged, or the claim repeated): leave-one-writer-out scores it level with the
# decision alone, and it keeps the plainest statements the decision still misses.
RULES_FILL_CONFIDENCE = 0.8


class ModelError(ValueError):
    """A decision model that cannot be read, or was trained for another domain pack."""


@dataclass
class DecisionModel:
    version: str
    pack: str
    topics: TopicModel
    decision: LinearDecision
    topic_threshold: float

    @classmethod
    def load(cls, path: Path) -> DecisionModel:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                version=str(data["version"]),
                pack=str(data["pack"]),
                topics=TopicModel.from_json(data["topics"]),
                decision=LinearDecision.from_json(data["decision"]),
                topic_threshold=float(data["topic_threshold"]),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"cannot load decision model {path}: {exc}") from exc

    def to_json(self) -> dict[str, object]:
        return {
            "version": self.version,
            "pack": self.pack,
            "topic_threshold": self.topic_threshold,
            "topics": self.topics.to_json(),
            "decision": self.decision.to_json(),
        }


def model_path(pack: DomainPack) -> Path:
    return MODELS_DIR / f"{pack.name}-{pack.version}.json"


class LearnedExtractor:
    name = "learned"

    def __init__(self, rules: RulesExtractor, model: DecisionModel) -> None:
        if model.pack != f"{rules.pack.name}-{rules.pack.version}":
            raise ModelError(
                f"the decision model was trained for pack {model.pack}, "
                f"not {rules.pack.name}-{rules.pack.version}"
            )
        self.rules = rules
        self.model = model
        self.nlp: Language = rules.nlp
        self.version = f"learned-{model.version}+pack-{rules.pack.name}-{rules.pack.version}"

    def extract(self, article: ArticleText) -> list[Claim]:
        return self.extract_many([article])[0]

    def extract_many(self, articles: Sequence[ArticleText]) -> list[list[Claim]]:
        texts = (self.rules.within_limit(a.body) for a in articles)
        docs = self.nlp.pipe(texts, batch_size=BATCH_SIZE)
        return [self.claims_from_doc(doc, article) for doc, article in zip(docs, articles, strict=True)]

    def claims_from_doc(self, doc: Doc, article: ArticleText) -> list[Claim]:
        reading = self.rules.read_doc(doc, article)
        if not self.rules.is_about_the_domain(reading):
            return []
        described = describe_candidates(self.rules, reading, self.model.topics, self.model.topic_threshold)
        scored = [(c, self.model.decision.probabilities(features)) for c, features in described]
        claims: list[Claim] = []
        text = doc.text
        for choice in aggregate(scored, self.model.decision.threshold):
            candidate = choice.candidate
            conditions = terms_of(self.rules, reading, candidate) if choice.stance == "conditional" else []
            quote, start, end = quote_of(candidate.sentence, text)
            claims.append(
                Claim(
                    actor=candidate.actor,
                    topic=candidate.topic,
                    stance=choice.stance,  # type: ignore[arg-type]
                    conditions=conditions,
                    summary=self.rules.summary(candidate.actor, candidate.topic, choice.stance, conditions),
                    speaker=candidate.mention.person,
                    quote=quote,
                    start=start,
                    end=end,
                    confidence=round(min(0.99, choice.probability), 3),
                )
            )
        return with_confident_rules(claims, self.rules.merged_claims(reading))


def describe_candidates(
    rules: RulesExtractor, reading: DocReading, topics: TopicModel | None, topic_threshold: float
) -> list[tuple[Candidate, dict[str, float]]]:
    """The article's candidates with their features: the same for training and for serving."""
    candidates = find_candidates(
        reading.sentences, reading.cues, reading.mentions, reading.raw, topics, topic_threshold
    )
    actor_at = {i: actor for i, m in reading.mentions.by_token.items() if (actor := m.actor) is not None}
    described = []
    for candidate in candidates:
        candidate.conditioned = bool(rules.conditions_of(reading, candidate.sentence, candidate.cue))
        described.append((candidate, candidate_features(candidate, rules.compiled, reading.year, actor_at)))
    return described


def with_confident_rules(decided: list[Claim], rules: list[Claim]) -> list[Claim]:
    """The decision's claims, and the rules' confident ones on pairs the decision left empty."""
    pairs = {(c.actor, c.topic) for c in decided}
    added = [c for c in rules if c.confidence >= RULES_FILL_CONFIDENCE and (c.actor, c.topic) not in pairs]
    return sorted([*decided, *added], key=lambda c: (c.start, c.actor, c.topic))


def terms_of(rules: RulesExtractor, reading: DocReading, candidate: Candidate) -> list[str]:
    """A conditional claim's terms: the rules' own reading of the sentence when they saw conditions
    there, else whatever conditions the sentence sets on the candidate's cue."""
    return candidate.rule_conditions or rules.conditions_of(reading, candidate.sentence, candidate.cue)
