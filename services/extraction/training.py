"""Training the learned decision: data from annotated articles, leave-one-writer-out figures, the artefact.

`stance train` (and `make train`) reads `../shared/eval/train/`, prints leave-one-writer-out
cross-validation (train on every writer but one, score the one left out), a learning curve, the
development-set score, and writes the model the service loads. Scikit-learn is needed here only;
the service reads the exported weights with plain Python.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from services.extraction.candidates import Candidate
from services.extraction.decision import LABELS, LinearDecision, aggregate
from services.extraction.learned import RULES_FILL_CONFIDENCE, DecisionModel, describe_candidates, terms_of
from services.extraction.pipeline import DocReading, RulesExtractor
from services.extraction.schemas import ArticleText
from services.extraction.topics import TopicModel, fit_topic_model

SEED = 20261201
DEFAULT_C = 0.3
DEFAULT_THRESHOLD = 0.4
DEFAULT_TOPIC_THRESHOLD = 0.5
MODEL_FORMAT = "lr1"
# Weights this small change no decision; dropping them keeps the bundled model small.
PRUNE_BELOW = 0.005


@dataclass
class Example:
    candidate: Candidate
    features: dict[str, float]
    label: str | None  # None: the pair is a stance of the article but not stated in this sentence


@dataclass
class Article:
    id: str
    writer: str
    path: Path
    doc: dict[str, Any]
    reading: DocReading
    examples: list[Example]


def load_scorer(eval_dir: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("stance_eval_score", eval_dir / "score.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"no score.py in {eval_dir}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def article_text(doc: dict[str, Any]) -> ArticleText:
    published = doc.get("published_at")
    return ArticleText(
        body=doc["body"],
        title=doc.get("title"),
        published_at=datetime.fromisoformat(published.replace("Z", "+00:00")) if published else None,
    )


def gold_labels(doc: dict[str, Any], candidates: list[Candidate]) -> list[str | None]:
    """A candidate's label: the stance whose evidence lies in its sentence, or none if the pair is
    not a stance of the article; unknown (None) when the pair is one but stated elsewhere."""
    body = doc["body"]
    spans: dict[tuple[str, str], list[tuple[int, int, str]]] = defaultdict(list)
    for gold in doc.get("gold", []):
        start = body.find(gold["evidence"])
        spans[(gold["actor"], gold["topic"])].append((start, start + len(gold["evidence"]), gold["stance"]))
    labels: list[str | None] = []
    for candidate in candidates:
        evidence = spans.get(candidate.key)
        if not evidence:
            labels.append("none")
            continue
        sent = candidate.sentence
        inside = [
            stance
            for start, end, stance in evidence
            if start >= 0 and start < sent.end_char and end > sent.start_char
        ]
        labels.append(inside[0] if inside else None)
    return labels


def read_articles(paths: Iterable[Path], extractor: RulesExtractor) -> list[Article]:
    paths = list(paths)
    docs = [json.loads(p.read_text(encoding="utf-8")) for p in paths]
    texts = [article_text(d) for d in docs]
    articles: list[Article] = []
    for path, raw, text, parsed in zip(
        paths, docs, texts, extractor.nlp.pipe([t.body for t in texts], batch_size=16), strict=True
    ):
        reading = extractor.read_doc(parsed, text)
        writer = raw["id"].split("-")[1] if raw["id"].startswith("train-") else raw["id"]
        articles.append(Article(raw["id"], writer, path, raw, reading, []))
    return articles


def sentence_topics(article: Article) -> list[set[str]]:
    """The topics each sentence states a stance on, by the gold evidence it overlaps."""
    body = article.doc["body"]
    spans = []
    for gold in article.doc.get("gold", []):
        start = body.find(gold["evidence"])
        spans.append((start, start + len(gold["evidence"]), gold["topic"]))
    return [
        {topic for start, end, topic in spans if start < sent.end_char and end > sent.start_char}
        for sent in article.reading.sentences
    ]


def train_topic_model(articles: list[Article], topics: list[str]) -> TopicModel:
    sentences = [s for a in articles for s in a.reading.sentences]
    labels = [t for a in articles for t in sentence_topics(a)]
    return fit_topic_model(sentences, labels, topics, seed=SEED)


def build_examples(
    article: Article, extractor: RulesExtractor, topic_model: TopicModel | None, topic_threshold: float
) -> list[Example]:
    described = describe_candidates(extractor, article.reading, topic_model, topic_threshold)
    labels = gold_labels(article.doc, [c for c, _ in described])
    return [Example(c, features, label) for (c, features), label in zip(described, labels, strict=True)]


def fit(examples: list[Example], c: float = DEFAULT_C) -> LinearDecision:
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    usable = [e for e in examples if e.label is not None]
    vectorizer = DictVectorizer()
    x = vectorizer.fit_transform([e.features for e in usable])
    y = [LABELS.index(e.label) for e in usable if e.label is not None]
    model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced", random_state=SEED)
    model.fit(x, y)
    names = vectorizer.get_feature_names_out()
    weights: dict[str, list[float]] = {}
    for j, name in enumerate(names):
        column = [float(model.coef_[k, j]) for k in range(len(LABELS))]
        if max(abs(w) for w in column) >= PRUNE_BELOW:
            weights[str(name)] = [round(w, 4) for w in column]
    bias = [round(float(b), 4) for b in model.intercept_]
    return LinearDecision(weights=weights, bias=bias)


def predict_article(
    article: Article,
    decision: LinearDecision,
    extractor: RulesExtractor,
    threshold: float,
    with_rules: bool = True,
) -> list[dict[str, Any]]:
    if not extractor.is_about_the_domain(article.reading):
        return []
    scored = [(e.candidate, decision.probabilities(e.features)) for e in article.examples]
    claims: list[dict[str, Any]] = []
    for choice in aggregate(scored, threshold):
        candidate = choice.candidate
        conditions = terms_of(extractor, article.reading, candidate) if choice.stance == "conditional" else []
        claims.append(
            {
                "actor": candidate.actor,
                "topic": candidate.topic,
                "stance": choice.stance,
                "conditions": conditions,
                "speaker": candidate.mention.person,
                "quote": candidate.sentence.text.strip(),
                "confidence": round(choice.probability, 3),
            }
        )
    if not with_rules:
        return claims
    pairs = {(c["actor"], c["topic"]) for c in claims}
    for rule in extractor.merged_claims(article.reading):
        if rule.confidence >= RULES_FILL_CONFIDENCE and (rule.actor, rule.topic) not in pairs:
            claims.append(rule.model_dump(mode="json"))
    return claims


def evaluate(
    articles: list[Article],
    predict: Callable[[Article], list[dict[str, Any]]],
    scorer: ModuleType,
) -> dict[str, Any]:
    items = [(a.path, a.doc) for a in articles]
    preds = {str(a.path): predict(a) for a in articles}
    return dict(scorer.score(items, preds, False))


def line(name: str, result: dict[str, Any]) -> str:
    return (
        f"{name:<28} triple_f1={result['triple_f1']:.3f} pair_f1={result['pair_f1']:.3f} "
        f"stance_acc={result['stance_acc']:.3f} condition_recall={result['condition_recall']:.3f} "
        f"quote_valid={result['quote_valid']:.3f} (tp {result['tp']}, fp {result['fp']}, fn {result['fn']})"
    )


def leave_one_writer_out(
    articles: list[Article],
    extractor: RulesExtractor,
    scorer: ModuleType,
    settings: Settings,
    fraction: float = 1.0,
    thresholds: Sequence[float] = (),
) -> dict[float, dict[str, Any]]:
    """Train on every writer but one, score the one left out; figures per decision threshold."""
    writers = sorted({a.writer for a in articles})
    thresholds = tuple(thresholds) or (settings.threshold,)
    predictions: dict[float, dict[str, list[dict[str, Any]]]] = {t: {} for t in thresholds}
    rng = random.Random(SEED)
    recall = [0, 0]
    for writer in writers:
        train = [a for a in articles if a.writer != writer]
        if fraction < 1.0:
            train = rng.sample(train, max(1, round(len(train) * fraction)))
        held_out = [a for a in articles if a.writer == writer]
        model = train_model(train, extractor, settings)
        for article in held_out:
            article.examples = build_examples(article, extractor, model.topics, settings.topic_threshold)
            for threshold in thresholds:
                predictions[threshold][article.id] = predict_article(
                    article, model.decision, extractor, threshold
                )
        found, total = candidate_recall(held_out)
        recall[0] += found
        recall[1] += total
    results = {}
    for threshold in thresholds:
        chosen = predictions[threshold]
        result = evaluate(articles, lambda a: chosen[a.id], scorer)  # noqa: B023
        result["candidate_recall"] = recall[0] / max(1, recall[1])
        results[threshold] = result
    return results


@dataclass
class Settings:
    threshold: float = DEFAULT_THRESHOLD
    c: float = DEFAULT_C
    topic_threshold: float = DEFAULT_TOPIC_THRESHOLD
    use_topic_model: bool = True


@dataclass
class Model:
    topics: TopicModel | None
    decision: LinearDecision


def train_model(articles: list[Article], extractor: RulesExtractor, settings: Settings) -> Model:
    topics = (
        train_topic_model(articles, [t.id for t in extractor.pack.topics])
        if settings.use_topic_model
        else None
    )
    examples: list[Example] = []
    for article in articles:
        article.examples = build_examples(article, extractor, topics, settings.topic_threshold)
        examples.extend(article.examples)
    return Model(topics, fit(examples, settings.c))


def candidate_recall(articles: list[Article]) -> tuple[int, int]:
    found = total = 0
    for article in articles:
        pairs = {e.candidate.key for e in article.examples}
        for gold in article.doc["gold"]:
            if gold.get("optional"):
                continue
            total += 1
            found += (gold["actor"], gold["topic"]) in pairs
    return found, total


def count_claims(articles: list[Article], model: Model, extractor: RulesExtractor, settings: Settings) -> int:
    total = 0
    for article in articles:
        article.examples = build_examples(article, extractor, model.topics, settings.topic_threshold)
        total += len(predict_article(article, model.decision, extractor, settings.threshold))
    return total


def export(
    model: Model, extractor: RulesExtractor, settings: Settings, figures: dict[str, Any]
) -> DecisionModel:
    assert model.topics is not None
    model.decision.threshold = settings.threshold
    model.decision.meta = figures
    body = json.dumps([model.topics.to_json(), model.decision.weights, model.decision.bias], sort_keys=True)
    digest = hashlib.sha256(body.encode()).hexdigest()[:8]
    pack = extractor.pack
    return DecisionModel(
        version=f"{MODEL_FORMAT}-{digest}",
        pack=f"{pack.name}-{pack.version}",
        topics=model.topics,
        decision=model.decision,
        topic_threshold=settings.topic_threshold,
    )


def run(
    eval_dir: Path,
    output: Path | None = None,
    cross_validate: bool = True,
    curve: bool = False,
    sweep: bool = False,
    settings: Settings | None = None,
    echo: Callable[[str], None] = print,
) -> DecisionModel:
    """Train on `eval_dir/train`, print the honest figures, write the model the service loads."""
    from services.extraction.domain import load_domain_pack
    from services.extraction.model import load_nlp

    started = time.monotonic()
    base = settings or Settings()
    scorer = load_scorer(eval_dir)
    extractor = RulesExtractor(load_domain_pack(), load_nlp())
    train = read_articles(sorted((eval_dir / "train").glob("*.json")), extractor)
    dev = read_articles(sorted((eval_dir / "dev").glob("*.json")), extractor)
    unlabelled = read_articles(sorted((eval_dir / "real-unlabelled").glob("*.json")), extractor)
    writers = sorted({a.writer for a in train})
    echo(
        f"read {len(train)} training articles by {len(writers)} writers, {len(dev)} dev, "
        f"{len(unlabelled)} real-unlabelled ({time.monotonic() - started:.0f} s)"
    )
    figures: dict[str, Any] = {"seed": SEED, "C": base.c, "threshold": base.threshold}
    rules = evaluate(train, lambda a: rules_claims(a, extractor), scorer)
    echo(line("rules, all of train", rules))
    if sweep:
        grid = [Settings(base.threshold, c, tt) for c in (0.1, 0.3, 1.0) for tt in (0.4, 0.5, 0.6)]
        for candidate in grid:
            results = leave_one_writer_out(
                train, extractor, scorer, candidate, 1.0, (0.3, 0.35, 0.4, 0.45, 0.5)
            )
            for threshold, r in results.items():
                echo(line(f"LOWO C={candidate.c} topic>={candidate.topic_threshold} t={threshold}", r))
    if cross_validate:
        fractions = (0.25, 0.5, 1.0) if curve else (1.0,)
        for fraction in fractions:
            r = leave_one_writer_out(train, extractor, scorer, base, fraction)[base.threshold]
            name = "leave-one-writer-out" + ("" if fraction == 1.0 else f", {fraction:.0%} of training")
            echo(line(name, r) + f" candidate_recall={r['candidate_recall']:.3f}")
            if fraction == 1.0:
                figures["lowo_triple_f1"] = round(r["triple_f1"], 3)
    model = train_model(train, extractor, base)
    for article in dev:
        article.examples = build_examples(article, extractor, model.topics, base.topic_threshold)
    r = evaluate(dev, lambda a: predict_article(a, model.decision, extractor, base.threshold), scorer)
    echo(line("dev (trained on all of train)", r))
    figures["dev_triple_f1"] = round(r["triple_f1"], 3)
    false_claims = count_claims(unlabelled, model, extractor, base)
    rules_false = sum(len(rules_claims(a, extractor)) for a in unlabelled)
    echo(f"real-unlabelled: {false_claims} claims (every one false; the rules alone make {rules_false})")
    figures["real_unlabelled_claims"] = false_claims
    exported = export(model, extractor, base, figures)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(exported.to_json(), sort_keys=True) + "\n", encoding="utf-8")
        echo(f"wrote {output} ({output.stat().st_size // 1024} KiB, model {exported.version})")
    echo(f"done in {time.monotonic() - started:.0f} s")
    return exported


def rules_claims(article: Article, extractor: RulesExtractor) -> list[dict[str, Any]]:
    claims = extractor.claims_from_doc(article.reading.doc, article_text(article.doc))
    return [c.model_dump(mode="json") for c in claims]


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--eval-dir", type=Path, default=Path("../shared/eval"))
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--curve", action="store_true")
    parser.add_argument("--sweep", action="store_true")
    parser.add_argument("--no-cv", action="store_true")
    args = parser.parse_args(argv)
    run(args.eval_dir, args.output, not args.no_cv, args.curve, args.sweep)


if __name__ == "__main__":
    main()
