"""The rules extractor: parse, find actors, topics and conditions, decide stances, merge claims."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from spacy.language import Language
from spacy.tokens import Doc, Span, Token
from spacy.util import filter_spans

from services.extraction.conditions import Condition, clause_parts, find_conditions, without_asides
from services.extraction.lexicon import CompiledPack, compile_pack
from services.extraction.mentions import Mention, MentionIndex
from services.extraction.schemas import ArticleText, Claim, DomainPack, Stance

RULES_VERSION = "rules-1.0"

# Links through which a speaker's verb passes its voice down to what is said.
SPEECH_LINKS = frozenset({"ccomp", "xcomp", "parataxis", "conj"})
PREDICATE_POS = frozenset({"VERB", "AUX", "ADJ"})
YEAR = re.compile(r"^(19|20)\d\d$")
DURATION_WORDS = frozenset({"year", "years", "month", "months", "decade", "decades"})
BATCH_SIZE = 32
CONTENT_POS = frozenset({"NOUN", "PROPN", "VERB", "ADJ"})
RAISING_HEDGES = frozenset({"seem", "appear"})
CLAUSE_LINKS = frozenset({"ccomp", "acl", "relcl", "advcl", "parataxis"})
OBJECT_PREPOSITIONS = frozenset({"for", "to", "on", "about", "with", "into"})
SUFFICIENCY_WORDS = frozenset({"enough", "sufficient", "adequate"})
RELATIVE_PRONOUNS = frozenset({"that", "which", "who"})
BACK_POINTERS = frozenset({"both", "it", "this", "that", "they", "these", "those", "each"})

BASE_CONFIDENCE = 0.75
NAMED_SPEAKER_BONUS = 0.1
HEDGE_FACTOR = 0.55
GUESS_FACTOR = 0.35  # rule 2: a third party's guess is optional at most, so it rarely clears the bar
INDIRECT_HOLDER_FACTOR = 0.85
DEMAND_FACTOR = 0.9
REPEAT_BONUS = 0.05


@dataclass
class Cue:
    topic: str
    span: Span
    reversed: bool = False

    @property
    def head(self) -> Token:
        root = self.span.root
        if root.pos_ in CONTENT_POS:
            return root
        # "aid to X" parsed with "to X" hanging elsewhere: the noun is the cue.
        return next((t for t in self.span if t.pos_ in CONTENT_POS), root)


@dataclass
class Reading:
    """What the parse says about one topic cue: who holds it, and how."""

    holders: list[Mention]
    holder_token: Token | None
    negative: bool
    hedged: bool
    skip: str | None = None
    indirect: bool = False
    nominal: list[tuple[Mention, bool]] = field(default_factory=list)  # ("the Ruritanian proposal", negative)
    path: list[Token] = field(default_factory=list)  # from the cue up to the sentence root
    guessed: bool = False  # a third party's view of the holder ("analysts expect X to ...")


@dataclass
class RawClaim:
    actor: str
    topic: str
    stance: Stance
    conditions: list[str]
    speaker: str | None
    sentence: Span
    confidence: float


@dataclass
class DocReading:
    doc: Doc
    year: int
    mentions: MentionIndex
    cues: dict[int, list[Cue]]
    phrases: list[tuple[str, int, int]]
    sentences: list[Span]
    raw: list[RawClaim]


class RulesExtractor:
    name = "rules"

    def __init__(self, pack: DomainPack, nlp: Language) -> None:
        self.pack = pack
        self.nlp = nlp
        self.compiled: CompiledPack = compile_pack(pack, nlp)
        self.version = f"{RULES_VERSION}+pack-{pack.name}-{pack.version}"
        self._actor_names = {a.id: a.name for a in pack.actors}
        self._participation_topics = {t.id for t in pack.topics if t.participation}
        self._exclude_words = {t.id: {w.lower() for w in t.exclude_words} for t in pack.topics}
        self._durative_markers = {m.lower() for m in pack.lexicon.durative_condition_markers}
        self._topic_names = {t.id: t.name for t in pack.topics}
        self._actor_words = {
            a.id: {w.lower() for w in [a.name, *a.aliases, *a.demonyms, *a.capitals]} for a in pack.actors
        }

    # -- public interface ------------------------------------------------------------------

    def extract(self, article: ArticleText) -> list[Claim]:
        return self.extract_many([article])[0]

    def extract_many(self, articles: Sequence[ArticleText]) -> list[list[Claim]]:
        texts = (self.within_limit(a.body) for a in articles)
        docs = self.nlp.pipe(texts, batch_size=BATCH_SIZE)
        return [self.claims_from_doc(doc, article) for doc, article in zip(docs, articles, strict=True)]

    def within_limit(self, body: str) -> str:
        """The body, or its longest leading run of whole paragraphs the parser accepts.

        Offsets stay valid because only a prefix is kept.
        """
        limit = self.nlp.max_length
        if len(body) <= limit:
            return body
        cut = body.rfind("\n", 0, limit)
        return body[: cut if cut > 0 else limit]

    def claims_from_doc(self, doc: Doc, article: ArticleText) -> list[Claim]:
        return self._merge(self.read_doc(doc, article).raw, doc)

    def merged_claims(self, reading: DocReading) -> list[Claim]:
        return self._merge(reading.raw, reading.doc)

    def is_about_the_domain(self, reading: DocReading) -> bool:
        """Whether the article names one of the pack's core actors (any actor, if it names none).

        The learned extractor applies it to whole articles; the rules alone, read sentence by
        sentence in their tests, do not.
        """
        core = set(self.pack.core_actors)
        if not core:
            return True
        return any(m.actor in core and m.kind != "pronoun" for m in reading.mentions.mentions)

    def read_doc(self, doc: Doc, article: ArticleText) -> DocReading:
        """Mentions, cues and the rules' sentence-level claims: what later stages build on."""
        year = (article.published_at or datetime.now(UTC)).year
        mentions = MentionIndex(doc, self.compiled)
        cues = self._cues(doc, mentions)
        phrases = [(doc.vocab.strings[m], s, e) for m, s, e in self.compiled.phrase_matcher(doc)]
        raw: list[RawClaim] = []
        previous: list[RawClaim] = []
        # A stray closing quote mark split off as a sentence of its own is no sentence in between.
        sentences = [sent for sent in doc.sents if any(ch.isalnum() for ch in sent.text)]
        for sent in sentences:
            found = self._sentence_claims(sent, cues, mentions, phrases, year, previous)
            raw.extend(found)
            previous = found
        return DocReading(doc, year, mentions, cues, phrases, sentences, raw)

    def conditions_of(self, reading: DocReading, sent: Span, cue: Cue) -> list[str]:
        """The conditions a sentence sets on one of its cues, as short clauses."""
        conditions = find_conditions(sent, self.compiled, reading.phrases, {cue.head.i})
        parts: list[str] = []
        for condition in conditions:
            if condition.governs and cue.head.i not in condition.governs:
                continue
            if cue.head.i in condition.tokens:
                continue
            for part in condition.parts:
                if part not in parts:
                    parts.append(part)
        return parts

    def summary(self, actor: str, topic: str, stance: str, conditions: list[str]) -> str:
        return self._summary(actor, topic, stance, conditions)

    # -- topics ----------------------------------------------------------------------------

    def _cues(self, doc: Doc, mentions: MentionIndex) -> dict[int, list[Cue]]:
        """Topic cues by sentence start."""
        lowers = [t.lower_ for t in doc]
        spans = [Span(doc, s, e, label=key) for key, s, e in self.compiled.topic_matcher(lowers)]
        cues: list[Cue] = []
        vague: list[Span] = []
        for span in filter_spans(spans):
            topic, reversed_ = self.compiled.cue_topics[span.label_]
            if self._excluded(topic, span):
                continue
            if span.label_ in self.compiled.context_keys:
                vague.append(span)
                continue
            cues.append(Cue(topic, span, reversed_))
        cues.extend(self._cues_in_context(vague, cues, mentions))
        contact = self.pack.lexicon.contact_topic
        if contact is not None:
            taken = {i for c in cues for i in range(c.span.start, c.span.end)}
            for token in doc:
                if token.i not in taken and self._is_contact(token, mentions):
                    cues.append(Cue(contact, doc[token.i : token.i + 1]))
        by_sentence: dict[int, list[Cue]] = {}
        for cue in cues:
            by_sentence.setdefault(mentions.sentence_start[cue.span.start], []).append(cue)
        self._add_anaphoric_cues(doc, by_sentence)
        self._narrow_definite_cues(by_sentence)
        return by_sentence

    def _narrow_definite_cues(self, by_sentence: dict[int, list[Cue]]) -> None:
        """After "a harbour pause", "the pause" is that narrower pause, not a general one."""
        narrower = {t.narrows: t.id for t in self.pack.topics if t.narrows is not None}
        determiners = self.compiled.words("anaphoric_determiners")
        last_seen: dict[str, int] = {}
        for start in sorted(by_sentence):
            for cue in sorted(by_sentence[start], key=lambda c: c.span.start):
                narrow = narrower.get(cue.topic)
                # Only a bare "the truce" points back; "the full 30-day truce" is described anew.
                modifiers = [c for c in cue.head.children if c.dep_ in {"amod", "compound", "nummod"}]
                definite = (
                    len(cue.span) == 1
                    and not modifiers
                    and any(c.dep_ == "det" and c.lower_ in determiners for c in cue.head.children)
                )
                if (
                    narrow is not None
                    and definite
                    and last_seen.get(narrow, -1) > last_seen.get(cue.topic, -1)
                ):
                    cue.topic = narrow
                last_seen[cue.topic] = cue.span.start

    def _add_anaphoric_cues(self, doc: Doc, by_sentence: dict[int, list[Cue]]) -> None:
        """ "The chancellor backed the idea": the definite plan is the one the sentence before named."""
        nouns = self.compiled.words("anaphoric_nouns")
        determiners = self.compiled.words("anaphoric_determiners")
        weak = self.compiled.weak_topics
        previous_topics: set[str] = set()
        quiet = 0  # sentences since the last one that named a topic
        for sent in doc.sents:
            if not sent.text.strip():
                continue
            cues = by_sentence.get(sent.start, [])
            strong = {c.topic for c in cues if c.topic not in weak}
            if not strong and len(previous_topics) == 1 and quiet == 0:
                (topic,) = previous_topics
                for token in sent:
                    if (
                        token.lemma_.lower() in nouns
                        and token.dep_ in {"dobj", "nsubjpass"}
                        and any(c.dep_ == "det" and c.lower_ in determiners for c in token.children)
                    ):
                        # "lifting the pause" names the topic by its opposite.
                        reversed_ = self._is_flip_verb(token)
                        by_sentence.setdefault(sent.start, []).append(
                            Cue(topic, doc[token.i : token.i + 1], reversed_)
                        )
            if strong:
                previous_topics, quiet = strong, 0
            else:
                quiet += 1

    def _cues_in_context(self, vague: list[Span], cues: list[Cue], mentions: MentionIndex) -> list[Cue]:
        """ "membership" is the topic's only when its full cue came up in this or the last two sentences."""
        starts = sorted(set(mentions.sentence_start))
        found: list[Cue] = []
        for span in vague:
            topic, _ = self.compiled.cue_topics[span.label_]
            here = starts.index(mentions.sentence_start[span.start])
            window = set(starts[max(0, here - 2) : here + 1])
            if not self._refers_back(span.root):
                continue  # "a non-aligned mission" is new; "the mission" is the one just named
            if any(c.topic == topic and mentions.sentence_start[c.span.start] in window for c in cues):
                found.append(Cue(topic, span))
        return found

    def _refers_back(self, noun: Token) -> bool:
        determiners = self.compiled.words("anaphoric_determiners") | {"any"}
        if any(
            (c.dep_ in {"det", "amod", "predet"} and c.lower_ in determiners) or c.dep_ == "poss"
            for c in noun.children
        ):
            return True
        # A bare subject ("membership is not on the table") continues the topic too.
        indefinite = any(c.dep_ == "det" and c.lower_ in {"a", "an"} for c in noun.children)
        return noun.dep_ in {"nsubj", "nsubjpass"} and not indefinite

    def _excluded(self, topic: str, span: Span) -> bool:
        excluded = self._exclude_words.get(topic)
        if not excluded:
            return False
        nearby = {t.lower_ for t in span} | {c.lower_ for t in span for c in t.children}
        return bool(nearby & excluded)

    def _is_contact(self, token: Token, mentions: MentionIndex) -> bool:
        """A leader meeting, calling or inviting a person who speaks for another actor."""
        if token.pos_ != "VERB" or token.lemma_.lower() not in self.compiled.words("contact_verbs"):
            return False
        if any(c.dep_ in {"oprd", "ccomp", "xcomp"} and c.pos_ != "VERB" for c in token.children):
            return False  # "called him a dictator" names, it does not call
        subjects = _subjects(token, mentions)
        objects: list[Mention] = []
        for child in token.children:
            if child.dep_ in {"dobj", "dative"}:
                objects.extend(mentions.in_noun_phrase(child))
            elif child.dep_ == "prep" and child.lower_ in {"with", "to"}:
                for pobj in child.children:
                    if pobj.dep_ == "pobj":
                        objects.extend(mentions.in_noun_phrase(pobj))
        parties = self.compiled.words("contact_parties")
        persons = [m for m in objects if m.person is not None and m.actor in parties]
        if not persons:
            return False
        own = {m.actor for m in subjects}
        return bool(own & parties) and any(m.actor not in own for m in persons)

    # -- one sentence ----------------------------------------------------------------------

    def _sentence_claims(
        self,
        sent: Span,
        cues_by_sentence: dict[int, list[Cue]],
        mentions: MentionIndex,
        phrases: list[tuple[str, int, int]],
        year: int,
        previous: list[RawClaim],
    ) -> list[RawClaim]:
        if sent.text.rstrip().rstrip("\"'”’)").endswith("?"):
            return []
        cues = cues_by_sentence.get(sent.start, [])
        if any(c.topic not in self.compiled.weak_topics for c in cues):
            # "membership as an outcome of negotiations": a weak topic named in passing.
            cues = [c for c in cues if c.topic not in self.compiled.weak_topics or not _modifies_noun(c.head)]
        conditions = find_conditions(sent, self.compiled, phrases, {c.head.i for c in cues})
        if not cues:
            if conditions and previous:
                self._add_terms_to_previous(sent, conditions, mentions, previous)
            return []
        flips = [(s, e) for label, s, e in phrases if label == "FLIP" and sent.start <= s and e <= sent.end]
        claims: list[RawClaim] = []
        for cue in cues:
            if _is_price_of_another(cue, cues):
                continue
            claims.extend(self._cue_claims(sent, cue, cues, mentions, conditions, flips, year))
        return claims

    def _cue_claims(
        self,
        sent: Span,
        cue: Cue,
        sentence_cues: list[Cue],
        mentions: MentionIndex,
        conditions: list[Condition],
        flips: list[tuple[int, int]],
        year: int,
    ) -> list[RawClaim]:
        precondition = next(
            (c for c in conditions if c.kind == "precondition" and cue.head.i in c.governs), None
        )
        marker_tokens = {i for c in conditions for i in range(c.marker.start, c.marker.end)}
        marker_tokens |= {i for c in conditions for i in c.tokens}  # "only ... after X": X is the condition
        reading = self._read(sent, cue, mentions, flips, year, precondition is not None, marker_tokens)
        if reading.skip is not None:
            return []
        negative = reading.negative != cue.reversed
        claims: list[RawClaim] = []
        for mention, noun_negative in reading.nominal:
            stance: Stance = "oppose" if noun_negative != cue.reversed else "support"
            claims.append(self._raw(mention, cue, stance, [], sent, BASE_CONFIDENCE * INDIRECT_HOLDER_FACTOR))
        if not reading.holders:
            return claims
        containing = next((c for c in conditions if cue.head.i in c.tokens), None)
        if containing is not None:
            # A demand's polarity is read inside its own clause ("if X agreed to a pause").
            inside = [t for t in reading.path if t.i in containing.tokens]
            in_cue = _span_indices(cue.span)
            negative = self._negative(inside or reading.path[:1], in_cue, flips) != cue.reversed
            if containing.marker.text.lower() in self._durative_markers:
                main = [t for t in reading.path if t.i not in containing.tokens][1:]
                if self._negative(main, in_cue, flips):
                    negative = not negative  # "no deal as long as the tariffs stay": they must go
        holder_actors = {m.actor for m in reading.holders}
        conditions = [
            c
            for c in conditions
            if not c.governs
            or cue.head.i in c.governs
            or cue.head.i in c.tokens
            or self._binds_holder(c, cue, holder_actors, sentence_cues, mentions)
        ]
        stance, parts, demand = self._stance(cue, negative, conditions, precondition, sent)
        confidence = BASE_CONFIDENCE
        if reading.hedged:
            confidence *= HEDGE_FACTOR
        if reading.guessed:
            confidence *= GUESS_FACTOR
        if reading.indirect:
            confidence *= INDIRECT_HOLDER_FACTOR
        if demand:
            confidence *= DEMAND_FACTOR
        for mention in _one_per_actor(reading.holders):
            if stance == "oppose" and self._declines_own_part(cue, mention, mentions, reading.path):
                continue  # not sending one's own soldiers is no stance on the force itself
            bonus = NAMED_SPEAKER_BONUS if mention.person is not None else 0.0
            claims.append(self._raw(mention, cue, stance, parts, sent, confidence + bonus))
        return claims

    def _stance(
        self,
        cue: Cue,
        negative: bool,
        conditions: list[Condition],
        precondition: Condition | None,
        sent: Span,
    ) -> tuple[Stance, list[str], bool]:
        """The stance, its conditions, and whether it was read off a demand inside a condition."""
        polar: Stance = "oppose" if negative else "support"
        if precondition is not None:
            return "conditional", precondition.parts, False
        containing = [c for c in conditions if cue.head.i in c.tokens]
        if containing:
            condition = containing[0]
            requirements = self._requirements_of(condition, sent)
            if requirements:
                # "If X happens, it should ...": the main clause sets the terms for the topic.
                return "conditional", requirements, False
            return polar, [], True
        if any(self._requirements_of(c, sent) for c in conditions):
            return polar, [], True  # a term set for something else is a demand of its own
        governing = [c for c in conditions if cue.head.i not in c.tokens]
        if not negative:
            # "keep up the pressure until X": a positive "until" says how long, not on what terms.
            governing = [c for c in governing if c.kind != "inverted"]
        if not governing:
            return polar, [], False
        if negative and not any(c.kind in {"inverted", "marker", "only"} for c in governing):
            return polar, [], False
        parts = [p for c in governing for p in c.parts]
        return "conditional", parts, False

    def _binds_holder(
        self,
        condition: Condition,
        cue: Cue,
        holder_actors: set[str | None],
        cues: list[Cue],
        mentions: MentionIndex,
    ) -> bool:
        """A condition on the holder's own predicate that names no topic of its own.

        "Asked about a mission, she said Ruritania was ready to take part provided that ...":
        the terms are the holder's, for the topic the sentence is about.
        """
        named = [c for c in cues if c.head.i in condition.governs and c.head.i not in condition.tokens]
        if named or condition.anchor is None:
            return False
        token = cue.head
        while token.head.i != token.i:
            if token.dep_ == "conj" and token.pos_ in {"VERB", "AUX"}:
                return False  # "... only once X, but promised Y": Y is a promise of its own
            token = token.head
        verb: Token | None = condition.anchor
        for _ in range(4):
            if verb is None:
                break
            if any(c.dep_ in {"nsubj", "nsubjpass", "expl"} for c in verb.children):
                # The first clause with a subject decides: "the war could be over if ..." is not hers.
                return bool({m.actor for m in _subjects(verb, mentions)} & holder_actors)
            verb = verb.head if verb.head.i != verb.i else None
        return False

    def _requirements_of(self, condition: Condition, sent: Span) -> list[str]:
        """For a topic inside an "if" clause: the main clause's obligations, if it states any."""
        if condition.kind != "marker" or condition.marker[-1].lower_ != "if":
            return []
        modals = self.compiled.words("deontic_modals")
        main = [
            t
            for t in sent
            if t.i not in condition.tokens and t.i not in range(condition.marker.start, condition.marker.end)
        ]
        if not any(t.lower_ in modals and t.i > max(condition.tokens) for t in main):
            return []
        doc = sent.doc
        aside = {
            d.i
            for t in main
            if t.dep_ == "parataxis" and t.lemma_.lower() in self.compiled.words("reporting_verbs")
            for d in t.subtree
        }
        body = [t for t in main if t.i not in aside and t.i > max(condition.tokens)]
        if not body:
            return []
        indices = without_asides(doc, {t.i for t in body})
        return clause_parts(sent, indices)

    def _declines_own_part(
        self, cue: Cue, holder: Mention, mentions: MentionIndex, path: list[Token]
    ) -> bool:
        if cue.topic not in self._participation_topics:
            return False
        joining = self.compiled.words("participation_verbs")
        # "would not send troops as part of any force": the sending verb may sit above the cue.
        verbs = [t for t in cue.span if t.pos_ == "VERB"] + [
            t for t in path if t.pos_ == "VERB" and t.lemma_.lower() in joining
        ]
        for token in verbs:
            if token.pos_ == "VERB":
                doers = _subjects(token, mentions)  # "X did not plan to send soldiers"
                if any(m.actor == holder.actor for m in doers):
                    return True  # "X will not send soldiers": the holder declines its own part
        return self._names_own_forces(cue, holder)

    def _names_own_forces(self, cue: Cue, holder: Mention) -> bool:
        modifiers = {"amod", "poss", "compound", "det", "nmod"}
        words = {t.lower_ for t in cue.span} | {
            c.lower_ for t in cue.span for c in t.children if c.dep_ in modifiers
        }
        own = self._actor_words.get(holder.actor or "", set())
        return bool(words & self.compiled.words("own_markers")) or bool(words & own)

    # -- reading the parse -----------------------------------------------------------------

    def _read(
        self,
        sent: Span,
        cue: Cue,
        mentions: MentionIndex,
        flips: list[tuple[int, int]],
        year: int,
        allow_temporal: bool,
        marker_tokens: set[int] | None = None,
    ) -> Reading:
        marker_tokens = marker_tokens or set()
        lex = self.compiled
        in_cue = set(range(cue.span.start, cue.span.end))
        path: list[Token] = [cue.head]
        token = cue.head
        while token.head.i != token.i:
            token = token.head
            path.append(token)

        skip = self._skip_reason(path, in_cue, allow_temporal, marker_tokens, mentions)
        first: tuple[int, list[Mention]] | None = None
        outer: tuple[int, list[Mention]] | None = None
        blocked = False
        hedged = False
        nominal: list[tuple[Mention, bool]] = []
        for position, node in enumerate(path):
            if (
                node.lemma_.lower() in lex.words("support_nouns") | lex.words("oppose_nouns")
                and node.i not in in_cue
            ):
                for mention in self._nominal_holders(node, mentions):
                    nominal.append((mention, self._negative(path[: position + 1], in_cue, flips)))
            agents, raised = self._agents(node, path[position - 1] if position else None, mentions)
            # "League membership was out of the question": the cue's own words name no holder.
            agents = [m for m in agents if m.start not in in_cue]
            if agents and self._opens_condition(node):
                agents = []  # "if X stopped ...": the speaker sets the terms, X does not
            if agents:
                if first is None:
                    first = (position, agents)
                    hedged = hedged or raised
                elif not blocked:
                    outer = (position, agents)
                    hedged = hedged or raised
            if node.head.i == node.i:
                break
            below = path[position - 1] if position else None
            # "wants a guarantee that X never joins": the noun carrying the content clause passes too.
            carries_content = (
                below is not None
                and below.dep_ == "acl"
                and any(c.dep_ == "mark" and c.lower_ == "that" for c in below.children)
                and node.dep_ in {"dobj", "attr", "pobj"}
            )
            if (
                first is not None
                and not carries_content
                and not self._passes_voice(node, first[0] == position)
            ):
                blocked = True

        holders: list[Mention] = []
        holder_position = None
        indirect = False
        if outer is None and first is not None and self._is_demand_on(path[first[0]]):
            # "X must now agree to a pause, he said": the demand is the speaker's position.
            speakers = self._fallback_holders(sent, mentions)
            if speakers:
                outer = (len(path) - 1, speakers)
        if outer is not None and first is not None and self._sourced_afterwards(path, first, outer):
            # "Coalition leaders agreed to X, the prime minister said": the speaker is the source
            # of a position that belongs to the subject.
            outer = None
        if outer is not None or first is not None:
            holder_position, holders = outer or first  # type: ignore[misc]
        else:
            holders = self._fallback_holders(sent, mentions, path) or self._listed_position(
                sent, cue, mentions
            )
            indirect = bool(holders)
        scope = path[: holder_position + 1] if holder_position is not None else path
        hedged = hedged or self._hedged(scope)
        if holders and not indirect and self._guessed_by_others(path, holder_position or 0, mentions):
            guessed = True
        else:
            guessed = False
        if holder_position is not None and self._is_history(scope, in_cue, year):
            skip = skip or "history"
        return Reading(
            holders=holders,
            holder_token=scope[-1] if holders else None,
            negative=self._negative(scope, in_cue, flips),
            hedged=hedged,
            skip=skip,
            indirect=indirect,
            nominal=nominal if skip is None else [],
            path=path,
            guessed=guessed,
        )

    def _opens_condition(self, verb: Token) -> bool:
        markers = self.compiled.words("condition_words")
        return verb.dep_ in {"advcl", "pcomp"} and any(
            c.dep_ == "mark" and c.lower_ in markers for c in verb.children
        )

    def _guessed_by_others(self, path: list[Token], holder_position: int, mentions: MentionIndex) -> bool:
        """Whether someone who is no actor frames the holder's clause: "analysts expect X to ..."."""
        lex = self.compiled
        for node in path[holder_position + 1 :]:
            if node.lemma_.lower() not in lex.words("hedge_verbs") | lex.words("reporting_verbs"):
                continue
            subjects = [c for c in node.children if c.dep_ == "nsubj"]
            if subjects and not any(mentions.in_noun_phrase(s) for s in subjects):
                return node.lemma_.lower() in lex.words("hedge_verbs")
            return False
        return False

    def _sourced_afterwards(
        self, path: list[Token], first: tuple[int, list[Mention]], outer: tuple[int, list[Mention]]
    ) -> bool:
        verb, speaker_verb = path[first[0]], path[outer[0]]
        if speaker_verb.i < verb.i or verb.lemma_.lower() not in self.compiled.words("position_verbs"):
            return False
        inner = {m.actor for m in first[1] if m.kind != "pronoun"}
        return bool(inner) and not inner & {m.actor for m in outer[1]}

    def _is_demand_on(self, verb: Token) -> bool:
        modals = self.compiled.words("deontic_modals")
        return any(c.dep_ == "aux" and c.lower_ in modals for c in verb.children)

    def _passes_voice(self, node: Token, is_first_agent_verb: bool) -> bool:
        """Whether a speaker further up still owns what is said below `node`."""
        if node.dep_ == "conj":
            return not is_first_agent_verb
        if node.dep_ in SPEECH_LINKS:
            return True
        if node.dep_ == "acl" and any(c.dep_ == "mark" and c.lower_ == "that" for c in node.children):
            return True  # "wants a guarantee that X never joins": the content of the demand
        # "used the money to let X buy arms": a purpose clause is the subject's own plan.
        return node.dep_ == "advcl" and any(c.lower_ == "to" and c.dep_ == "aux" for c in node.children)

    def _agents(self, node: Token, below: Token | None, mentions: MentionIndex) -> tuple[list[Mention], bool]:
        """Actors doing `node` (a predicate), and whether they were reached by raising ("is expected to")."""
        if node.pos_ not in PREDICATE_POS and node.dep_ != "ROOT":
            return [], False
        children = list(node.children)
        passive = any(c.dep_ in {"auxpass", "nsubjpass"} for c in children)
        if passive:
            for child in children:
                if child.dep_ == "agent":
                    found = [
                        m for p in child.children if p.dep_ == "pobj" for m in mentions.in_noun_phrase(p)
                    ]
                    if found:
                        return found, False
            if below is not None and below.dep_ == "xcomp":
                # "X is expected to oppose": the subject is the one opposing, as others see it.
                found = [m for c in children if c.dep_ == "nsubjpass" for m in mentions.in_noun_phrase(c)]
                return found, bool(found)
            return [], False
        found = []
        for child in children:
            if child.dep_ == "nsubj":
                # "a memorandum that demanded X": the relative pronoun stands for the noun.
                subject = node.head if child.lower_ in RELATIVE_PRONOUNS and node.dep_ == "relcl" else child
                found.extend(m for m in mentions.in_noun_phrase(subject) if m.actor is not None)
        return found, False

    def _nominal_holders(self, noun: Token, mentions: MentionIndex) -> list[Mention]:
        found: list[Mention] = []
        for child in noun.children:
            if child.dep_ in {"poss", "amod", "compound"}:
                mention = mentions.at(child)
                if mention is not None and mention.kind != "pronoun":
                    found.append(mention)  # "its bid" is background; "the Ruritanian proposal" is news
        return found

    def _fallback_holders(
        self, sent: Span, mentions: MentionIndex, path: list[Token] | None = None
    ) -> list[Mention]:
        """Speakers named outside the cue's own clause: "..., he said", "according to X", "For X, ...".

        With a cue's `path`, a "he said" aside must hang from that path, so that it speaks for the
        cue's clause and not for another one in the same sentence.
        """
        lex = self.compiled
        on_path = {t.i for t in path} if path is not None else None
        for token in sent:
            aside = token.dep_ == "parataxis" or (token.dep_ == "ccomp" and token.head.dep_ == "ROOT")
            if on_path is not None and token.head.i not in on_path and token.i not in on_path:
                continue
            if aside and token.lemma_.lower() in lex.words("reporting_verbs"):
                found = [m for c in token.children if c.dep_ == "nsubj" for m in mentions.in_noun_phrase(c)]
                if found:
                    return found
        for token in sent:
            if token.lower_ == "according" and token.i + 1 < sent.end and token.nbor(1).lower_ == "to":
                found = [
                    m for c in token.nbor(1).children if c.dep_ == "pobj" for m in mentions.in_noun_phrase(c)
                ]
                if found:
                    return found
        first = sent[0]
        if first.lower_ == "for" and first.dep_ == "prep":
            found = [m for c in first.children if c.dep_ == "pobj" for m in mentions.in_noun_phrase(c)]
            if found:
                return found
        return self._stranded_subject(sent, mentions)

    def _listed_position(self, sent: Span, cue: Cue, mentions: MentionIndex) -> list[Mention]:
        """ "The ministry's line is firm: no foreign troops, ...": a position listed after a colon."""
        colon = next((t for t in sent if t.text == ":" and t.i < cue.span.start), None)
        if colon is None:
            return []
        nouns = self.compiled.words("position_nouns")
        for token in sent[: colon.i - sent.start]:
            if token.lemma_.lower() in nouns:
                owners = [
                    m
                    for c in token.children
                    if c.dep_ in {"poss", "compound"}
                    for m in mentions.in_noun_phrase(c)
                ]
                if owners:
                    return owners
        return []

    def _stranded_subject(self, sent: Span, mentions: MentionIndex) -> list[Mention]:
        """When the parse finds no subject for the main verb, officials named just before it."""
        root = sent.root
        if root.pos_ != "VERB" or any(c.dep_ in {"nsubj", "nsubjpass", "expl"} for c in root.children):
            return []
        agents = self.compiled.words("agent_nouns")
        for token in reversed(sent[: root.i - sent.start]):
            mention = mentions.at(token)
            if mention is None:
                continue
            owner = token.head
            if mention.person is not None or owner.lemma_.lower() in agents:
                return [mention]
        return []

    def _negative(self, scope: list[Token], in_cue: set[int], flips: list[tuple[int, int]]) -> bool:
        lex = self.compiled
        on_path = {t.i for t in scope}
        negative = False
        previous: Token | None = None
        # Verbs left of a coordination we climbed out of govern the other conjunct, not ours:
        # in "renounce A and cede B", B is not renounced even when the parse hangs it under A.
        barrier = -1
        for node in scope:
            lemma = node.lemma_.lower()
            sibling_of_previous = (
                previous is not None and previous.dep_ == "conj" and previous.pos_ in {"VERB", "AUX"}
            )
            if sibling_of_previous and previous is not None:
                barrier = max(barrier, _coordinator_before(previous))
            elif previous is not None and previous.dep_ in CLAUSE_LINKS:
                barrier = -1  # a verb governing the whole clause governs every conjunct in it
            if sibling_of_previous:
                # "X must not mean A, and B would hold": the first conjunct's negation is its own.
                previous = node
                continue
            if node.i not in in_cue and not node.i < barrier:
                # "a negotiated end to the war": a flip noun undoes what it governs, not its modifier.
                modifier = (
                    node.pos_ == "NOUN" and previous is not None and previous.dep_ in {"amod", "compound"}
                )
                if (self._is_flip_verb(node) and not modifier and not self._reached_as_adjunct(previous)) or (
                    lemma in lex.words("flip_adjectives")
                ):
                    negative = not negative
                if node.dep_ == "prep" and node.lower_ in lex.words("negations"):
                    negative = not negative
            insufficient = any(c.lower_ in SUFFICIENCY_WORDS for c in node.children)
            for child in node.children:
                if child.i in on_path:
                    continue
                if insufficient and child.dep_ == "neg":
                    continue  # "X alone would not be enough": wanted, but not sufficient
                if child.dep_ == "det" and previous is not None and previous.dep_ in {"conj", "appos"}:
                    continue  # "no troops, no membership": each conjunct has its own "no"
                if child.dep_ == "nsubj" and any(
                    d.dep_ == "det" and d.lower_ in lex.words("negations") for d in child.children
                ):
                    negative = not negative  # "no country could veto it": nobody does
                if (
                    child.dep_ == "neg"
                    or (child.lower_ in lex.words("negations") and child.dep_ in {"det", "advmod", "preconj"})
                    or (
                        (child.dep_ in {"acomp", "oprd", "attr", "xcomp", "ccomp"} or child.pos_ == "ADJ")
                        and (
                            child.lemma_.lower() in lex.words("flip_adjectives")
                            or child.lower_ in lex.words("flip_adjectives")
                        )
                    )
                    # "deliveries would have to stop": the subject's own predicate undoes it.
                    or (
                        child.dep_ == "xcomp"
                        and self._is_flip_verb(child)
                        and previous is not None
                        and previous.dep_ in {"nsubj", "nsubjpass"}
                    )
                ):
                    negative = not negative
            previous = node
        for i in in_cue:
            token = scope[0].doc[i]
            if token.i not in on_path and any(
                c.dep_ == "det" and c.lower_ in lex.words("negations") for c in token.children
            ):
                negative = not negative  # "no soldiers would be sent"
        cue_start = min(in_cue) if in_cue else scope[0].i
        doc = scope[0].doc
        # "a halt to attacks", "banning strikes": a flip word just before the cue governs it
        # even when the parser hangs the cue elsewhere.
        for i in range(cue_start - 1, max(cue_start - 4, scope[0].sent.start - 1), -1):
            word = doc[i]
            if self._is_flip_verb(word) and word.i not in on_path and word.i not in in_cue:
                negative = not negative
                break
            if word.pos_ not in {"ADP", "DET", "PART"}:
                break
        for start, end in flips:
            span = scope[0].doc[start:end]
            # "rather than a truce" reads the same however the parser attaches it.
            adjacent = 0 <= cue_start - end <= 2
            if span.root.i in on_path or span.root.head.i in on_path or adjacent:
                negative = not negative
        return negative

    def _reached_as_adjunct(self, below: Token | None) -> bool:
        """ "ended the meeting without a deal": the deal is not what was ended."""
        if below is None:
            return False
        if below.dep_ in {"advcl", "advmod", "npadvmod"}:
            return True
        lex = self.compiled
        # "banning strikes, together with a pause at sea": what comes "with" is not banned.
        return below.dep_ == "prep" and (
            below.lower_ in lex.words("negations")
            or below.lower_ in lex.words("temporal_prepositions")
            or below.lower_ == "with"
        )

    def _is_flip_verb(self, token: Token) -> bool:
        lemma = token.lemma_.lower()
        flips = self.compiled.words("flip_verbs") | self.compiled.words("oppose_nouns")
        if lemma in flips:
            return True
        particles = [c.lower_ for c in token.children if c.dep_ == "prt"]
        return any(f"{lemma} {p}" in flips for p in particles)

    def _hedged(self, scope: list[Token]) -> bool:
        lex = self.compiled
        for node in scope:
            # "is expected to", "was reported to": others' view of the actor, not its own words.
            passive = any(c.dep_ in {"auxpass", "nsubjpass"} for c in node.children)
            if node.lemma_.lower() in lex.words("hedge_verbs") and node.pos_ == "VERB" and passive:
                return True
            if node.lemma_.lower() in RAISING_HEDGES:
                return True
            if any(c.lower_ in lex.words("hedges") and c.dep_ in {"aux", "advmod"} for c in node.children):
                return True
        return False

    def _skip_reason(
        self,
        path: list[Token],
        in_cue: set[int],
        allow_temporal: bool,
        marker_tokens: set[int],
        mentions: MentionIndex,
    ) -> str | None:
        lex = self.compiled
        for position, node in enumerate(path):
            lemma = node.lemma_.lower()
            below = path[position - 1] if position else None
            # "asked whether X, and said Y": Y is neither a question nor an accusation.
            sibling = below is not None and below.dep_ == "conj" and below.pos_ in {"VERB", "AUX"}
            if not sibling and (
                lemma in lex.words("question_words")
                or any(c.dep_ == "mark" and c.lower_ in lex.words("question_words") for c in node.children)
            ):
                return "question"
            if lemma in lex.words("non_stance_verbs") and not sibling:
                return "accusation"  # "accused X of stalling, but said ...": the saying stands
            if lemma in lex.words("outcome_words") and node.i not in in_cue:
                return "outcome"
            if node.i in in_cue or position == 0:
                continue
            if (
                node.dep_ == "prep"
                and node.lower_ in lex.words("temporal_prepositions")
                and not allow_temporal
            ):
                return "circumstance"
            if (
                not allow_temporal
                and any(
                    c.dep_ == "mark"
                    and c.lower_ in lex.words("temporal_prepositions")
                    and c.i not in marker_tokens
                    for c in node.children
                )
                and not any(
                    c.dep_ in {"nsubj", "nsubjpass"} and mentions.in_noun_phrase(c) for c in node.children
                )
            ):
                return "circumstance"  # "days after a meeting between them ended ..." sets the scene
            if node.pos_ in {"VERB", "AUX"} and any(
                c.dep_ == "mark"
                and c.i not in marker_tokens
                and (
                    c.lower_ in lex.words("reason_markers")
                    or (c.lower_ == "that" and c.i > 0 and c.nbor(-1).lower_ == "so")
                )
                for c in node.children
            ):
                return "reason"
            auxiliaries = {c.lower_ for c in node.children if c.dep_ in {"aux", "auxpass"}}
            if {"would", "have"} <= auxiliaries and node.tag_ == "VBN":
                return "counterfactual"
        return None

    def _is_history(self, scope: list[Token], in_cue: set[int], year: int) -> bool:
        """A time adverbial on the holder's own clause that places it before the article's year."""
        lex = self.compiled
        for node in scope:
            if node.pos_ not in {"VERB", "AUX"}:
                continue
            for child in node.children:
                if child.dep_ not in {"prep", "npadvmod", "advmod"} or child.i in in_cue:
                    continue
                words = list(child.subtree)
                if any(t.i in in_cue or t.dep_ == "mark" or t.pos_ in {"VERB", "AUX"} for t in words):
                    continue  # a clause ("as it did in 2022"), not a date for this one
                if any(YEAR.match(t.text) and int(t.text) < year for t in words):
                    return True
                lowers = {t.lower_ for t in words}
                if lowers & {"previously", "formerly"}:
                    return True
                if lowers & lex.words("history_markers") and lowers & DURATION_WORDS:
                    return True
        return False

    # -- sentences without a topic ---------------------------------------------------------

    def _add_terms_to_previous(
        self, sent: Span, conditions: list[Condition], mentions: MentionIndex, previous: list[RawClaim]
    ) -> None:
        """ "Both could start at once if X does the same": terms for what was just proposed.

        The previous sentence's claims by the same holder become conditional, in place.
        """
        actors = {m.actor for m in self._sentence_holders(sent, mentions)}
        conditions = [c for c in conditions if self._about_something_named_before(c, sent)]
        parts = [p for c in conditions if c.kind != "precondition" for p in c.parts]
        if not parts:
            return
        for claim in previous:
            if claim.actor in actors and claim.stance in {"support", "conditional"}:
                claim.stance = "conditional"
                claim.conditions = [*claim.conditions, *parts]

    def _about_something_named_before(self, condition: Condition, sent: Span) -> bool:
        """Whether the conditioned clause's subject points back ("Both could start if ...")."""
        anchor = condition.anchor if condition.anchor is not None else sent.root
        subjects = [c for c in anchor.children if c.dep_ in {"nsubj", "nsubjpass"}]
        if not subjects:
            return False
        subject = subjects[0]
        if subject.lower_ in BACK_POINTERS:
            return True
        # "the plan", or "Strelsau's participation" right after Strelsau offered it.
        determiners = self.compiled.words("anaphoric_determiners")
        return subject.lemma_.lower() in self.compiled.words("anaphoric_nouns") and any(
            (c.dep_ == "det" and c.lower_ in determiners) or c.dep_ == "poss" for c in subject.children
        )

    def _sentence_holders(self, sent: Span, mentions: MentionIndex) -> list[Mention]:
        root = sent.root
        found, _ = self._agents(root, None, mentions)
        return found or self._fallback_holders(sent, mentions)

    # -- assembling claims -----------------------------------------------------------------

    def _raw(
        self, mention: Mention, cue: Cue, stance: Stance, parts: list[str], sent: Span, confidence: float
    ) -> RawClaim:
        assert mention.actor is not None
        return RawClaim(
            actor=mention.actor,
            topic=cue.topic,
            stance=stance,
            conditions=list(parts),
            speaker=mention.person,
            sentence=sent,
            confidence=max(0.0, min(1.0, confidence)),
        )

    def _merge(self, raw: Iterable[RawClaim], doc: Doc) -> list[Claim]:
        groups: dict[tuple[str, str, str], list[RawClaim]] = {}
        for claim in raw:
            groups.setdefault((claim.actor, claim.topic, claim.stance), []).append(claim)
        claims: list[Claim] = []
        minimum = self.pack.min_confidence
        text = doc.text  # Doc.text is rebuilt on every access
        for (actor, topic, stance), members in groups.items():
            best = max(members, key=lambda c: (c.confidence, c.speaker is not None))
            confidence = min(0.99, best.confidence + REPEAT_BONUS * (len(members) - 1))
            if confidence < minimum:
                continue
            conditions: list[str] = []
            for member in members:
                for part in member.conditions:
                    if part.lower() not in {c.lower() for c in conditions}:
                        conditions.append(part)
            speaker = best.speaker or next((m.speaker for m in members if m.speaker), None)
            quote, start, end = quote_of(best.sentence, text)
            claims.append(
                Claim(
                    actor=actor,
                    topic=topic,
                    stance=stance,  # type: ignore[arg-type]
                    conditions=conditions,
                    summary=self._summary(actor, topic, stance, conditions),
                    speaker=speaker,
                    quote=quote,
                    start=start,
                    end=end,
                    confidence=round(confidence, 3),
                )
            )
        claims.sort(key=lambda c: (c.start, c.actor, c.topic))
        return claims

    def _summary(self, actor: str, topic: str, stance: str, conditions: list[str]) -> str:
        head = f"{self._actor_names.get(actor, actor)}: {self._topic_names.get(topic, topic)}"
        if stance == "conditional" and conditions:
            return f"{head} conditional on {'; '.join(conditions)}"
        return f"{head} — {stance}"


def _subjects(verb: Token, mentions: MentionIndex) -> list[Mention]:
    """Who does `verb`, looking through "was prepared to meet" to the subject of "was"."""
    for _ in range(4):
        subjects = [c for c in verb.children if c.dep_ == "nsubj"]
        if subjects or verb.dep_ not in {"xcomp", "acomp", "conj"} or verb.head.i == verb.i:
            return [m for c in subjects for m in mentions.in_noun_phrase(c)]
        verb = verb.head
    return []


def _is_price_of_another(cue: Cue, cues: list[Cue]) -> bool:
    """ "would not trade territory for a pause": the pause is the price named, not a position on it."""
    head = cue.head
    preposition = head.head
    if head.dep_ != "pobj" or preposition.lower_ != "for":
        return False
    verb = preposition.head
    objects = {c.i for c in verb.children if c.dep_ == "dobj"}
    return any(
        other is not cue and (other.head.i in objects or verb.i in range(other.span.start, other.span.end))
        for other in cues
    )


def _span_indices(span: Span) -> set[int]:
    return set(range(span.start, span.end))


def _modifies_noun(token: Token) -> bool:
    """Whether a word is named in passing: "an outcome of talks", "not in the talks".

    The object of a verb's own preposition ("called for talks", "ready for talks") is not.
    """
    while token.dep_ in {"compound", "amod", "conj"}:
        token = token.head
    if token.dep_ != "pobj":
        return False
    preposition = token.head
    governed_by_predicate = preposition.head.pos_ in {"VERB", "ADJ", "AUX"}
    return not (governed_by_predicate and preposition.lower_ in OBJECT_PREPOSITIONS)


def _coordinator_before(conjunct: Token) -> int:
    """Index of the "and"/"or" that introduces a conjunct (or the conjunct itself)."""
    for i in range(conjunct.i - 1, conjunct.left_edge.i - 1, -1):
        if conjunct.doc[i].dep_ == "cc":
            return i
    return conjunct.i


def _one_per_actor(mentions: list[Mention]) -> list[Mention]:
    chosen: dict[str, Mention] = {}
    for mention in mentions:
        if mention.actor is None:
            continue
        kept = chosen.get(mention.actor)
        if kept is None or (kept.person is None and mention.person is not None):
            chosen[mention.actor] = mention
    return list(chosen.values())


def quote_of(sent: Span, text: str) -> tuple[str, int, int]:
    """The sentence as it stands in the body, without surrounding whitespace."""
    start, end = sent.start_char, sent.end_char
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return text[start:end], start, end
