"""The learned decision: none / support / oppose / conditional for each candidate, then per article.

The model is a multinomial logistic regression over the candidate's features, stored as plain JSON
(feature name -> one weight per label) so that the service needs no learning library to apply it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.extraction.candidates import Candidate

LABELS = ("none", "support", "oppose", "conditional")
STANCES = LABELS[1:]


@dataclass
class LinearDecision:
    weights: dict[str, list[float]]
    bias: list[float]
    threshold: float = 0.5
    meta: dict[str, Any] | None = None

    def probabilities(self, features: dict[str, float]) -> list[float]:
        scores = list(self.bias)
        for name, value in features.items():
            row = self.weights.get(name)
            if row is not None:
                for k, weight in enumerate(row):
                    scores[k] += weight * value
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        return [e / total for e in exps]

    def to_json(self) -> dict[str, Any]:
        return {
            "labels": list(LABELS),
            "threshold": self.threshold,
            "bias": self.bias,
            "weights": self.weights,
            "meta": self.meta or {},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LinearDecision:
        if tuple(data.get("labels", ())) != LABELS:
            raise ValueError(f"model labels {data.get('labels')} are not {list(LABELS)}")
        return cls(
            weights={k: [float(w) for w in v] for k, v in data["weights"].items()},
            bias=[float(b) for b in data["bias"]],
            threshold=float(data["threshold"]),
            meta=data.get("meta") or {},
        )

    @classmethod
    def load(cls, path: Path) -> LinearDecision:
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")))


@dataclass
class Choice:
    candidate: Candidate
    stance: str
    probability: float


def aggregate(scored: Iterable[tuple[Candidate, list[float]]], threshold: float) -> list[Choice]:
    """One stance per (actor, topic) of an article: the most probable over all its candidates."""
    best: dict[tuple[str, str], Choice] = {}
    for candidate, probabilities in scored:
        for k, stance in enumerate(STANCES, start=1):
            p = probabilities[k]
            kept = best.get(candidate.key)
            if p >= threshold and (kept is None or p > kept.probability):
                best[candidate.key] = Choice(candidate, stance, p)
    return sorted(
        best.values(), key=lambda c: (c.candidate.sentence.start, c.candidate.actor, c.candidate.topic)
    )
