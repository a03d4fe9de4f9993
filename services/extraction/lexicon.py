"""A domain pack compiled against the spaCy vocabulary: matchers and lookup sets, built once."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher

from services.extraction.schemas import DomainPack

GAP_WORDS = 4  # what "~" in a cue stands for


@dataclass(frozen=True)
class ActorRef:
    """What a matched phrase names: an actor, maybe a person, and whether it is a place."""

    actor: str
    person: str | None = None
    is_place: bool = False
    is_demonym: bool = False


@dataclass
class CompiledPack:
    pack: DomainPack
    actor_matcher: PhraseMatcher
    actor_refs: dict[str, ActorRef]
    topic_matcher: Matcher
    cue_topics: dict[str, tuple[str, bool]]  # match key -> (topic id, reversed)
    phrase_matcher: PhraseMatcher  # grammar phrases: condition markers, flip phrases
    demonyms: dict[str, str]  # lower-cased adjective -> actor id
    person_titles: dict[str, list[tuple[str, str]]]  # title -> [(person, actor)]
    weak_topics: set[str]
    single: dict[str, frozenset[str]] = field(default_factory=dict)

    def words(self, name: str) -> frozenset[str]:
        return self.single[name]


def compile_pack(pack: DomainPack, nlp: Language) -> CompiledPack:
    lex = pack.lexicon
    actor_matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
    actor_refs: dict[str, ActorRef] = {}

    def add_actor_phrases(key: str, ref: ActorRef, phrases: list[str]) -> None:
        phrases = [p for p in dict.fromkeys(phrases) if p.strip()]
        if not phrases:
            return
        actor_refs[key] = ref
        actor_matcher.add(key, [nlp.make_doc(p) for p in phrases])

    demonyms: dict[str, str] = {}
    person_titles: dict[str, list[tuple[str, str]]] = {}
    for actor in pack.actors:
        # A role that names a person is matched as that person, so the speaker is kept.
        personal = {r.lower() for p in actor.persons for r in [p.name, *p.aliases, *p.roles]}
        phrases = [a for a in [actor.name, *actor.aliases, *actor.roles] if a.lower() not in personal]
        add_actor_phrases(f"A:{actor.id}", ActorRef(actor.id), phrases)
        add_actor_phrases(f"P:{actor.id}", ActorRef(actor.id, is_place=True), actor.capitals)
        for demonym in actor.demonyms:
            demonyms[demonym.lower()] = actor.id
        for index, person in enumerate(actor.persons):
            # Person phrases are added after actor phrases so that the longest match decides.
            add_actor_phrases(
                f"N:{actor.id}:{index}",
                ActorRef(actor.id, person=person.name),
                [person.name, *person.aliases, *person.roles],
            )
            for title in person.titles:
                person_titles.setdefault(title.lower(), []).append((person.name, actor.id))

    topic_matcher = Matcher(nlp.vocab)
    cue_topics: dict[str, tuple[str, bool]] = {}
    for topic in pack.topics:
        for reversed_, cues in ((False, topic.cues), (True, topic.reversed_cues)):
            for number, cue in enumerate(cues):
                key = f"T:{topic.id}:{int(reversed_)}:{number}"
                cue_topics[key] = (topic.id, reversed_)
                topic_matcher.add(key, [cue_pattern(cue, nlp)])

    phrase_matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
    for label, phrases in (
        ("COND", lex.condition_markers),
        ("INVCOND", lex.inverted_condition_markers),
        ("FLIP", lex.flip_phrases),
        ("PRECOND", lex.precondition_markers),
    ):
        phrase_matcher.add(label, [nlp.make_doc(_plain(p)) for p in phrases])

    condition_words = {
        word.lower()
        for phrase in [*lex.condition_markers, *lex.inverted_condition_markers]
        for word in phrase.split()
        if word.lower() not in {"only", "in", "on", "the", "as", "so", "to", "with", "after", "for", "subject"}
    }
    single = {
        name: frozenset(w.lower() for w in getattr(lex, name))
        for name in (
            "reporting_verbs",
            "flip_verbs",
            "flip_adjectives",
            "negations",
            "deontic_modals",
            "hedges",
            "hedge_verbs",
            "non_stance_verbs",
            "question_words",
            "temporal_prepositions",
            "venue_prepositions",
            "agent_nouns",
            "support_nouns",
            "oppose_nouns",
            "contact_verbs",
            "contact_parties",
            "history_markers",
            "own_markers",
            "reason_markers",
            "anaphoric_nouns",
            "anaphoric_determiners",
            "person_pronouns",
            "organisation_pronouns",
        )
    }
    return CompiledPack(
        pack=pack,
        actor_matcher=actor_matcher,
        actor_refs=actor_refs,
        topic_matcher=topic_matcher,
        cue_topics=cue_topics,
        phrase_matcher=phrase_matcher,
        demonyms=demonyms,
        person_titles=person_titles,
        weak_topics={t.id for t in pack.topics if t.weak},
        single={**single, "condition_words": frozenset(condition_words)},
    )


def _plain(phrase: str) -> str:
    # Hyphens are written spaced in the pack so they tokenise the way spaCy splits them.
    return phrase.replace(" - ", "-")


def cue_pattern(cue: str, nlp: Language) -> list[dict[str, object]]:
    """Turn the pack's small cue syntax into a token Matcher pattern."""
    pattern: list[dict[str, object]] = []
    for word in cue.split():
        if word == "~":
            pattern.append({"IS_SENT_START": False, "OP": f"{{0,{GAP_WORDS}}}"})
        elif "|" in word and "*" in word:
            options = "|".join(re.escape(w[:-1]) if w.endswith("*") else re.escape(w) + "$" for w in word.split("|"))
            pattern.append({"LOWER": {"REGEX": f"^(?:{options.lower()})"}})
        elif "|" in word:
            pattern.append({"LOWER": {"IN": [w.lower() for w in word.split("|")]}})
        elif word.endswith("*"):
            pattern.append({"LOWER": {"REGEX": "^" + word[:-1].lower()}})
        else:
            for token in nlp.make_doc(word):
                pattern.append({"LOWER": token.lower_})
    return pattern
