"""The learned extractor's stages, one at a time, on sentences written for these tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.extraction.candidates import Candidate, find_candidates, tree_path
from services.extraction.decision import LABELS, LinearDecision, aggregate
from services.extraction.domain import load_domain_pack
from services.extraction.features import candidate_features, holder_role, nearest_holder
from services.extraction.learned import DecisionModel, LearnedExtractor, ModelError, model_path
from services.extraction.model import load_nlp
from services.extraction.pipeline import DocReading, RulesExtractor
from services.extraction.schemas import ArticleText
from services.extraction.service import get_extractor
from services.extraction.topics import TopicModel, fit_topic_model
from services.extraction.training import gold_labels


@pytest.fixture(scope="module")
def rules() -> RulesExtractor:
    return RulesExtractor(load_domain_pack(), load_nlp())


def _read(rules: RulesExtractor, text: str) -> DocReading:
    return rules.read_doc(rules.nlp(text), ArticleText(body=text))


def _candidates(rules: RulesExtractor, text: str) -> dict[tuple[str, str], Candidate]:
    reading = _read(rules, text)
    found = find_candidates(reading.sentences, reading.cues, reading.mentions, reading.raw)
    return {c.key: c for c in found}


def _actor_at(reading: DocReading) -> dict[int, str]:
    return {i: a for i, m in reading.mentions.by_token.items() if (a := m.actor) is not None}


# -- candidates ---------------------------------------------------------------------------------


def test_every_actor_in_a_sentence_with_a_topic_is_a_candidate(rules: RulesExtractor) -> None:
    candidates = _candidates(
        rules, "Oslo hosted the meeting where Kyiv welcomed Washington's call for a truce."
    )
    assert {("ukraine", "ceasefire"), ("united-states", "ceasefire")} <= set(candidates)


def test_a_speaker_named_in_the_sentence_before_is_carried_into_a_quote(rules: RulesExtractor) -> None:
    text = 'Sergei Lavrov spoke to reporters on Friday.\n"We will never accept a truce on these terms."'
    candidate = _candidates(rules, text)[("russia", "ceasefire")]
    assert candidate.carried
    assert candidate.sentence.text.startswith('"We will never')


def test_a_sentence_without_a_topic_gives_no_candidate(rules: RulesExtractor) -> None:
    assert _candidates(rules, "Emmanuel Macron flew to Warsaw on Tuesday.") == {}


def test_the_tree_path_meets_at_the_common_head(rules: RulesExtractor) -> None:
    doc = rules.nlp("Berlin rejected the plan.")
    up, down = tree_path(doc[0], doc[3])
    assert [t.text for t in up] == ["Berlin", "rejected"]
    assert [t.text for t in down] == ["plan"]


# -- holders ------------------------------------------------------------------------------------


def test_the_subject_of_the_verb_above_the_topic_holds_it(rules: RulesExtractor) -> None:
    text = "Kyiv welcomed Washington's call for a truce."
    candidates = _candidates(rules, text)
    doc = candidates[("ukraine", "ceasefire")].sentence.doc
    ukraine = candidates[("ukraine", "ceasefire")]
    united_states = candidates[("united-states", "ceasefire")]
    assert holder_role(ukraine, ukraine.mention.root(doc)) == "subject_above"
    assert holder_role(united_states, united_states.mention.root(doc)) == "possessor"


def test_the_nearest_holder_above_a_topic_is_the_possessor_of_its_noun(rules: RulesExtractor) -> None:
    reading = _read(rules, "Dmitry Peskov said the EU's sanctions plan would fail.")
    cue = reading.cues[0][0]
    actor, predicate = nearest_holder(cue.head, _actor_at(reading))
    assert actor == "european-union"
    assert predicate is not None and predicate.text == "plan"


def test_features_name_the_link_and_the_rules_reading(rules: RulesExtractor) -> None:
    text = "Warsaw rejected new sanctions on Hungary's energy imports."
    reading = _read(rules, text)
    candidate = _candidates(rules, text)[("poland", "sanctions-on-russia")]
    features = candidate_features(candidate, rules.compiled, 2025, _actor_at(reading))
    assert features["lca=reject"] == 1.0
    assert features["role=subject_above"] == 1.0
    assert any(name.startswith("rule=") for name in features)


# -- topics named in other words ------------------------------------------------------------------


def test_a_topic_model_learns_a_paraphrase_and_names_its_telling_word(rules: RulesExtractor) -> None:
    positives = [
        "Both armies must stop shooting along the whole front line.",
        "The guns should stop shooting by Sunday, the envoy said.",
        "Nobody expects the shooting to stop this winter.",
    ]
    negatives = [
        "The harvest was larger than last year.",
        "Parliament debated the budget until midnight.",
        "The central bank raised interest rates again.",
    ]
    sentences = [next(iter(rules.nlp(t).sents)) for t in positives + negatives]
    labels = [{"ceasefire"}] * len(positives) + [set()] * len(negatives)
    model = fit_topic_model(sentences, labels, ["ceasefire", "sanctions-on-russia"], c=10.0)
    probe = next(iter(rules.nlp("The soldiers will stop shooting at dawn.").sents))
    unrelated = next(iter(rules.nlp("The bank raised its rates.").sents))
    assert model.scores(probe)["ceasefire"] > 0.5 > model.scores(unrelated)["ceasefire"]
    assert model.telling_word(probe, "ceasefire").lemma_ in {"shoot", "stop"}
    assert TopicModel.from_json(json.loads(json.dumps(model.to_json()))).scores(probe) == model.scores(probe)


# -- the decision ---------------------------------------------------------------------------------


def test_a_linear_decision_scores_by_its_weights() -> None:
    decision = LinearDecision(weights={"refuse": [0.0, -2.0, 3.0, 0.0]}, bias=[1.0, 0.0, 0.0, 0.0])
    probabilities = decision.probabilities({"refuse": 1.0})
    assert max(range(len(LABELS)), key=lambda k: probabilities[k]) == LABELS.index("oppose")
    assert sum(probabilities) == pytest.approx(1.0)
    assert decision.probabilities({"unknown feature": 1.0})[0] == max(decision.probabilities({}))
    again = LinearDecision.from_json(json.loads(json.dumps(decision.to_json())))
    assert again.probabilities({"refuse": 1.0}) == probabilities


def test_aggregation_keeps_one_stance_per_pair_and_drops_weak_ones(rules: RulesExtractor) -> None:
    text = "Kyiv welcomed Washington's call for a truce."
    candidates = _candidates(rules, text)
    scored = [
        (candidates[("ukraine", "ceasefire")], [0.1, 0.7, 0.1, 0.1]),
        (candidates[("ukraine", "ceasefire")], [0.1, 0.1, 0.8, 0.0]),
        (candidates[("united-states", "ceasefire")], [0.6, 0.3, 0.05, 0.05]),
    ]
    choices = aggregate(scored, 0.5)
    assert [(c.candidate.actor, c.stance, c.probability) for c in choices] == [("ukraine", "oppose", 0.8)]


def test_labels_come_from_the_sentence_holding_the_evidence(rules: RulesExtractor) -> None:
    text = "Kyiv welcomed a truce.\nKyiv also spoke about the truce again."
    reading = _read(rules, text)
    found = find_candidates(reading.sentences, reading.cues, reading.mentions, reading.raw)
    gold = {"body": text, "gold": [{"actor": "ukraine", "topic": "ceasefire", "stance": "support",
                                    "evidence": "Kyiv welcomed a truce."}]}  # fmt: skip
    labels = {c.sentence.start: label for c, label in zip(found, gold_labels(gold, found), strict=True)}
    first, second = (s.start for s in reading.sentences)
    assert labels[first] == "support"
    assert labels[second] is None  # the pair is a stance of the article, stated elsewhere


# -- the extractor --------------------------------------------------------------------------------


def test_the_service_uses_the_bundled_model_and_names_its_version() -> None:
    extractor = get_extractor()
    assert isinstance(extractor, LearnedExtractor)
    assert extractor.version.startswith("learned-")
    assert model_path(load_domain_pack()).is_file()


def test_a_model_for_another_pack_is_refused(rules: RulesExtractor, tmp_path: Path) -> None:
    data = json.loads(model_path(load_domain_pack()).read_text())
    data["pack"] = "elsewhere-9"
    path = tmp_path / "model.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ModelError, match="elsewhere-9"):
        LearnedExtractor(rules, DecisionModel.load(path))
    path.write_text("{}")
    with pytest.raises(ModelError, match="cannot load"):
        DecisionModel.load(path)


def test_learned_claims_quote_the_body_verbatim() -> None:
    body = (
        "Ukraine's foreign minister said on Monday that Kyiv would accept a 30-day ceasefire only if "
        "Russia stopped its strikes on cities.\nThe Kremlin rejected any pause in the fighting."
    )
    claims = get_extractor().extract(ArticleText(body=body))
    assert claims
    assert all(body[c.start : c.end] == c.quote for c in claims)
    assert all(0.0 < c.confidence < 1.0 for c in claims)


def test_an_article_naming_no_core_actor_is_about_something_else(rules: RulesExtractor) -> None:
    elsewhere = "The European Union said it would impose new sanctions on the rulers of Ruritania."
    at_home = "The European Union said it would impose new sanctions on Russia."
    assert not rules.is_about_the_domain(_read(rules, elsewhere))
    assert rules.is_about_the_domain(_read(rules, at_home))
    assert get_extractor().extract(ArticleText(body=elsewhere)) == []
    assert get_extractor().extract(ArticleText(body=at_home)) != []


def test_core_actors_must_be_actors_of_the_pack() -> None:
    from pydantic import ValidationError

    pack = load_domain_pack().model_dump()
    pack["core_actors"] = ["atlantis"]
    with pytest.raises(ValidationError, match="atlantis"):
        type(load_domain_pack()).model_validate(pack)
