"""A domain pack compiled against the spaCy vocabulary: matchers and lookup sets, built once."""

from __future__ import annotations

from dataclasses import dataclass, field

from spacy.language import Language
from spacy.matcher import PhraseMatcher

from services.extraction.schemas import DomainPack

PREFIX_INDEX = 3
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
    topic_matcher: CueMatcher
    cue_topics: dict[str, tuple[str, bool]]  # match key -> (topic id, reversed)
    context_keys: set[str]  # keys of cues that need the topic named just before
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
                [person.name, *person.aliases],
            )
            # A role maps to whoever held it when the pack was written; a name given alongside wins.
            add_actor_phrases(f"R:{actor.id}:{index}", ActorRef(actor.id, person=person.name), person.roles)
            for title in person.titles:
                person_titles.setdefault(title.lower(), []).append((person.name, actor.id))

    topic_matcher = CueMatcher()
    cue_topics: dict[str, tuple[str, bool]] = {}
    context_keys: set[str] = set()
    for topic in pack.topics:
        for reversed_, cues in ((False, topic.cues), (True, topic.reversed_cues)):
            for number, cue in enumerate(cues):
                key = f"T:{topic.id}:{int(reversed_)}:{number}"
                cue_topics[key] = (topic.id, reversed_)
                topic_matcher.add(key, cue, nlp)
        for number, cue in enumerate(topic.context_cues):
            key = f"C:{topic.id}:{number}"
            cue_topics[key] = (topic.id, False)
            context_keys.add(key)
            topic_matcher.add(key, cue, nlp)

    phrase_matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
    for label, phrases in (
        ("COND", lex.condition_markers),
        ("INVCOND", lex.inverted_condition_markers),
        ("FLIP", lex.flip_phrases),
        ("PRECOND", lex.precondition_markers),
        ("PRINCIPLE", lex.principle_markers),
    ):
        phrase_matcher.add(label, [nlp.make_doc(_plain(p)) for p in phrases])

    condition_words = {
        word.lower()
        for phrase in [*lex.condition_markers, *lex.inverted_condition_markers]
        for word in phrase.split()
        if word.lower()
        not in {"only", "in", "on", "the", "as", "so", "to", "with", "after", "for", "subject"}
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
            "outcome_words",
            "temporal_prepositions",
            "venue_prepositions",
            "agent_nouns",
            "support_nouns",
            "oppose_nouns",
            "position_nouns",
            "position_verbs",
            "contact_verbs",
            "vacuous_conditions",
            "precondition_nouns",
            "durative_condition_markers",
            "persistence_verbs",
            "participation_verbs",
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
        context_keys=context_keys,
        phrase_matcher=phrase_matcher,
        demonyms=demonyms,
        person_titles=person_titles,
        weak_topics={t.id for t in pack.topics if t.weak},
        single={**single, "condition_words": frozenset(condition_words)},
    )


def _plain(phrase: str) -> str:
    # Hyphens are written spaced in the pack so they tokenise the way spaCy splits them.
    return phrase.replace(" - ", "-")


@dataclass(frozen=True)
class CueWord:
    """One position of a cue: exact words and/or word prefixes; `gap` stands for any few words."""

    exact: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    gap: int = 0

    def accepts(self, lower: str) -> bool:
        return lower in self.exact or lower.startswith(self.prefixes)


class CueMatcher:
    """Matches the pack's cue syntax over lower-cased tokens.

    spaCy's Matcher evaluates every REGEX predicate on every token, which cost more than the
    parse; indexing cues by their first word keeps matching to a dictionary lookup per token.
    """

    def __init__(self) -> None:
        self._by_word: dict[str, list[tuple[str, tuple[CueWord, ...]]]] = {}
        # Prefix cues indexed by their first letters, so a token only meets plausible ones.
        self._by_prefix: dict[str, list[tuple[str, str, tuple[CueWord, ...]]]] = {}

    def add(self, key: str, cue: str, nlp: Language) -> None:
        words = tuple(_cue_words(cue, nlp))
        first = words[0]
        for word in first.exact:
            self._by_word.setdefault(word, []).append((key, words))
        for prefix in first.prefixes:
            if len(prefix) < PREFIX_INDEX:
                raise ValueError(f"cue {cue!r}: a wildcard needs at least {PREFIX_INDEX} letters before it")
            self._by_prefix.setdefault(prefix[:PREFIX_INDEX], []).append((prefix, key, words))

    def __call__(self, lowers: list[str]) -> list[tuple[str, int, int]]:
        found: list[tuple[str, int, int]] = []
        for start, lower in enumerate(lowers):
            candidates = list(self._by_word.get(lower, ()))
            for prefix, key, words in self._by_prefix.get(lower[:PREFIX_INDEX], ()):
                if lower.startswith(prefix):
                    candidates.append((key, words))
            for key, words in candidates:
                end = _match_from(lowers, start + 1, words, 1)
                if end is not None:
                    found.append((key, start, end))
        return found


def _match_from(lowers: list[str], i: int, words: tuple[CueWord, ...], k: int) -> int | None:
    """End of the longest match of words[k:] starting at token i, if any."""
    if k == len(words):
        return i
    word = words[k]
    if word.gap:
        best = None
        for skip in range(word.gap + 1):
            end = _match_from(lowers, i + skip, words, k + 1)
            if end is not None and (best is None or end > best):
                best = end
        return best
    if i < len(lowers) and word.accepts(lowers[i]):
        return _match_from(lowers, i + 1, words, k + 1)
    return None


def _cue_words(cue: str, nlp: Language) -> list[CueWord]:
    words: list[CueWord] = []
    for word in cue.lower().split():
        if word == "~":
            words.append(CueWord(gap=GAP_WORDS))
            continue
        options = word.split("|")
        if len(options) == 1 and not word.endswith("*"):
            # A hyphenated or clitic word may be several tokens.
            words.extend(CueWord(exact=frozenset({t.lower_})) for t in nlp.make_doc(word))
            continue
        exact = frozenset(o for o in options if not o.endswith("*"))
        prefixes = tuple(o[:-1] for o in options if o.endswith("*"))
        words.append(CueWord(exact=exact, prefixes=prefixes))
    if not words or words[0].gap or words[-1].gap:
        raise ValueError(f"cue {cue!r} must start and end with a word")
    return words
