"""Topics named in other words: a learned sentence-level topic model beside the pack's cues.

The pack's cue lists find a topic where it is named; writers just as often paraphrase it, in words
no cue list anticipates. A one-vs-rest linear
model over a sentence's lemmas and lemma pairs scores every topic; where a topic scores high and no
cue names it, the sentence's most telling word for that topic stands in as its cue.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from spacy.tokens import Span, Token

SKIP_POS = frozenset({"PUNCT", "SPACE", "DET", "NUM", "SYM"})


def _lemma(token: Token) -> str:
    return token.lemma_.lower()


def sentence_terms(sent: Span) -> dict[str, float]:
    words = [t for t in sent if t.pos_ not in SKIP_POS and not t.is_space]
    lemmas = [_lemma(t) for t in words]
    terms: dict[str, float] = {}
    for lemma in lemmas:
        terms[f"w={lemma}"] = 1.0
    for left, right in pairwise(lemmas):
        terms[f"b={left}_{right}"] = 1.0
    for token in words:
        if token.dep_ in {"dobj", "pobj", "nsubj", "nsubjpass"} and token.head.pos_ in {
            "VERB",
            "NOUN",
            "ADP",
        }:
            terms[f"d={_lemma(token.head)}>{_lemma(token)}"] = 1.0
    return terms


@dataclass
class TopicModel:
    topics: list[str]
    weights: dict[str, list[float]]
    bias: list[float]

    def scores(self, sent: Span) -> dict[str, float]:
        raw = list(self.bias)
        for term in sentence_terms(sent):
            row = self.weights.get(term)
            if row is not None:
                for k, w in enumerate(row):
                    raw[k] += w
        return {topic: 1.0 / (1.0 + math.exp(-s)) for topic, s in zip(self.topics, raw, strict=True)}

    def telling_word(self, sent: Span, topic: str) -> Token:
        """The word of the sentence that speaks most for the topic: the paraphrase's stand-in cue."""
        k = self.topics.index(topic)
        best, best_weight = sent.root, -math.inf
        for token in sent:
            if token.pos_ in SKIP_POS:
                continue
            row = self.weights.get(f"w={_lemma(token)}")
            weight = row[k] if row is not None else -math.inf
            if weight > best_weight:
                best, best_weight = token, weight
        return best

    def to_json(self) -> dict[str, Any]:
        return {"topics": self.topics, "bias": self.bias, "weights": self.weights}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TopicModel:
        return cls(
            topics=list(data["topics"]),
            weights={k: [float(w) for w in v] for k, v in data["weights"].items()},
            bias=[float(b) for b in data["bias"]],
        )


def fit_topic_model(
    sentences: list[Span],
    labels: list[set[str]],
    topics: list[str],
    c: float = 0.5,
    seed: int = 0,
    prune_below: float = 0.02,
) -> TopicModel:
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = DictVectorizer()
    x = vectorizer.fit_transform([sentence_terms(s) for s in sentences])
    names = vectorizer.get_feature_names_out()
    columns: list[list[float]] = []
    bias: list[float] = []
    for topic in topics:
        y = [topic in label for label in labels]
        if not any(y):
            columns.append([0.0] * len(names))
            bias.append(-10.0)
            continue
        model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced", random_state=seed)
        model.fit(x, y)
        columns.append([float(w) for w in model.coef_[0]])
        bias.append(round(float(model.intercept_[0]), 5))
    weights: dict[str, list[float]] = {}
    for j, name in enumerate(names):
        row = [round(col[j], 4) for col in columns]
        if max(abs(w) for w in row) >= prune_below:
            weights[str(name)] = row
    return TopicModel(topics=topics, weights=weights, bias=bias)
