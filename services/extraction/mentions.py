"""Actor mentions in a parsed article: names, roles, demonyms, places, titles and pronouns."""

from __future__ import annotations

from dataclasses import dataclass

from spacy.tokens import Doc, Span, Token

from services.extraction.lexicon import CompiledPack

# Dependencies through which a noun phrase's head still names who it is about.
NP_LINKS = frozenset({"compound", "poss", "amod", "appos", "nmod", "flat", "conj", "npadvmod", "nummod"})
NP_PREPOSITIONS = frozenset({"of", "from"})
SUBJECT_DEPS = frozenset({"nsubj", "nsubjpass"})
PLACE_HOLDER_DEPS = frozenset({"nsubj", "nsubjpass", "poss", "appos", "conj", "ROOT"})
MEMBER_WORDS = frozenset(
    {"some", "many", "most", "all", "each", "one", "none", "several", "group", "head", "heads"}
)
MOVEMENT_VERBS = frozenset({"visit", "leave", "reach", "arrive", "enter", "host", "tour"})


@dataclass
class Mention:
    start: int
    end: int
    actor: str | None  # None: a person the pack does not know (still a pronoun antecedent)
    person: str | None
    kind: str  # name | role | place | demonym | title | pronoun | stranger

    def root(self, doc: Doc) -> Token:
        return doc[self.start : self.end].root


class MentionIndex:
    """Resolved actor mentions of one document, reachable by token index."""

    def __init__(self, doc: Doc, compiled: CompiledPack) -> None:
        self.doc = doc
        self.compiled = compiled
        self.by_token: dict[int, Mention] = {}
        self.mentions: list[Mention] = []
        # Token.sent walks the document each time; one lookup table serves every query.
        self.sentence_start: list[int] = [0] * len(doc)
        for sent in doc.sents:
            for i in range(sent.start, sent.end):
                self.sentence_start[i] = sent.start
        self._find(doc)

    # -- discovery -------------------------------------------------------------------------

    def _find(self, doc: Doc) -> None:
        compiled = self.compiled
        spans: list[Span] = []
        for match_id, start, end in compiled.actor_matcher(doc):
            spans.append(Span(doc, start, end, label=match_id))
        # Named-entity persons the pack does not know still take pronouns away from known ones.
        for ent in doc.ents:
            if ent.label_ == "PERSON":
                spans.append(Span(doc, ent.start, ent.end, label="STRANGER"))
        raw: list[Mention] = []
        chosen = _longest_spans(spans, doc)
        stranger_starts = {s.start for s in chosen if s.label_ == "STRANGER"}
        for span in chosen:
            if span.label_ == "STRANGER":
                raw.append(Mention(span.start, span.end, None, None, "stranger"))
                continue
            if doc.vocab.strings[span.label].startswith("R:") and span.end in stranger_starts:
                continue  # "the special envoy Jane Roe": the title is hers, not the pack's holder's
            key = doc.vocab.strings[span.label]
            ref = compiled.actor_refs[key]
            kind = "place" if ref.is_place else "role" if key.startswith("R:") else "name"
            raw.append(Mention(span.start, span.end, ref.actor, ref.person, kind))
        taken = {i for m in raw for i in range(m.start, m.end)}
        lex = compiled
        for token in doc:
            if token.i in taken:
                continue
            lower = token.lower_
            if lower in compiled.demonyms and self._demonym_is_actor(token):
                raw.append(Mention(token.i, token.i + 1, compiled.demonyms[lower], None, "demonym"))
            elif lower in lex.words("person_pronouns") or lower in lex.words("organisation_pronouns"):
                raw.append(Mention(token.i, token.i + 1, None, None, "pronoun"))
            elif self._is_definite_title(token):
                raw.append(Mention(token.i, token.i + 1, None, None, "title"))
            elif self._is_foreign_official(token, taken):
                raw.append(Mention(token.i, token.i + 1, None, None, "stranger"))
        raw.sort(key=lambda m: m.start)
        self._resolve(doc, raw)

    def _demonym_is_actor(self, token: Token) -> bool:
        lex = self.compiled
        nouns = lex.words("agent_nouns") | lex.words("support_nouns") | lex.words("oppose_nouns")
        head = token.head
        if head.i != token.i and head.i > token.i and head.i - token.i <= 3 and head.lemma_.lower() in nouns:
            return True
        following = token.nbor(1) if token.i + 1 < len(token.doc) else None
        return following is not None and following.lemma_.lower() in nouns

    def _is_foreign_official(self, token: Token, taken: set[int]) -> bool:
        """ "Sweden's prime minister": an official of a country the pack does not know, who still
        takes the pronouns that follow away from the last known person."""
        if token.lemma_.lower() not in self.compiled.words("agent_nouns"):
            return False
        return any(
            c.dep_ in {"poss", "compound", "amod"} and c.ent_type_ in {"GPE", "NORP"} and c.i not in taken
            for c in token.children
        )

    def _is_definite_title(self, token: Token) -> bool:
        if token.lower_ not in self.compiled.person_titles:
            return False
        return token.i > 0 and token.nbor(-1).lower_ == "the"

    # -- resolution ------------------------------------------------------------------------

    def _resolve(self, doc: Doc, raw: list[Mention]) -> None:
        lex = self.compiled
        # Antecedents: (mention, sentence start, was it a subject)
        persons: list[tuple[Mention, int, bool]] = []
        organisations: list[Mention] = []
        for mention in raw:
            root = mention.root(doc)
            sentence_start = self.sentence_start[root.i]
            if mention.kind == "pronoun":
                if root.lower_ in lex.words("person_pronouns"):
                    antecedent = _preferred_person(persons, sentence_start)
                    if antecedent is None or antecedent.actor is None:
                        continue
                    mention.actor, mention.person = antecedent.actor, antecedent.person
                else:
                    antecedent = self._organisation_antecedent(root, organisations)
                    if antecedent is None:
                        continue
                    mention.actor = antecedent.actor
            elif mention.kind == "title":
                title = root.lower_
                candidates = {p for p, _ in lex.person_titles[title]}
                antecedent = next((m for m, _, _ in reversed(persons) if m.person in candidates), None)
                if antecedent is None:
                    continue
                mention.actor, mention.person = antecedent.actor, antecedent.person
            elif self._may_be_place(mention, root) and self._is_venue(root):
                continue
            self.mentions.append(mention)
            if mention.person is not None or mention.kind == "stranger":
                persons.append((mention, sentence_start, _is_subject(root)))
            elif mention.actor is not None and mention.kind != "pronoun":
                organisations.append(mention)
            if mention.actor is not None:
                for i in range(mention.start, mention.end):
                    self.by_token[i] = mention

    def _may_be_place(self, mention: Mention, root: Token) -> bool:
        """Capitals always; other names where the tagger sees a place: "in Ruritania", not "in the league"."""
        if mention.kind == "place":
            return True
        return mention.kind == "name" and mention.person is None and root.ent_type_ in {"GPE", "LOC", "FAC"}

    def _organisation_antecedent(self, pronoun: Token, organisations: list[Mention]) -> Mention | None:
        """ "Its spokesman" looks back anywhere; a subject "it" only to a subject in its own sentence."""
        if not organisations:
            return None
        if pronoun.dep_ == "poss":
            return organisations[-1]
        doc = pronoun.doc
        here = self.sentence_start[pronoun.i]
        previous = self.sentence_start[here - 1] if here > 0 else -1
        for mention in reversed(organisations):
            root = mention.root(doc)
            start = self.sentence_start[root.i]
            if start == here and _is_subject(root):
                return mention
            # "The ministry insists ... It wants ...": a sentence-initial "it" continues the subject.
            main_subject = _is_subject(root) and _head_clause(root).dep_ == "ROOT"
            if start == previous and main_subject and pronoun.i == here and pronoun.dep_ == "nsubj":
                return mention
        return None

    def _is_venue(self, root: Token) -> bool:
        """A place named as where something happens rather than as who does it."""
        lex = self.compiled
        if root.is_upper and len(root.text) > 2:
            return True  # a dateline ("KYIV, March 3 -") says where the story was filed
        if root.dep_ == "pobj" and root.head.lower_ in lex.words("venue_prepositions"):
            # "For Strelsau, the stakes are high" still speaks of the government.
            return not (
                root.head.lower_ == "for"
                and root.head.head.dep_ == "ROOT"
                and root.head.i == self.sentence_start[root.i]
            )
        owners = lex.words("agent_nouns") | lex.words("support_nouns") | lex.words("oppose_nouns")
        if root.dep_ == "compound" and root.head.lemma_.lower() not in owners:
            return True  # "the Strelsau region"; but "the Ruritanian proposal" is the government's
        if root.dep_ == "dobj" and root.head.lemma_.lower() in MOVEMENT_VERBS:
            return True
        return root.dep_ not in PLACE_HOLDER_DEPS and root.dep_ not in {"pobj", "compound", "dobj", "attr"}

    # -- queries ---------------------------------------------------------------------------

    def _names_members(self, head: Token) -> bool:
        """ "leaders of X", "26 of X's leaders", "officials from X" name X; "membership of X" does not."""
        return head.pos_ == "NUM" or head.lemma_.lower() in self.compiled.words("agent_nouns") | MEMBER_WORDS

    def at(self, token: Token) -> Mention | None:
        return self.by_token.get(token.i)

    def in_noun_phrase(self, head: Token, depth: int = 3) -> list[Mention]:
        """Actors a noun phrase names, nearest to its head first ("palace aide Rudolf Rassendyll")."""
        found: list[Mention] = []
        own = self.at(head)
        if own is not None:
            found.append(own)
        if depth == 0:
            return found
        owners = self.compiled.words("agent_nouns") | self.compiled.words("support_nouns")
        for child in sorted(head.children, key=lambda c: (c.dep_ != "appos", abs(c.i - head.i))):
            if child.dep_ == "poss" and own is None and head.lemma_.lower() not in owners:
                continue  # "the treaty's clause" is a thing, not a speaker
            if child.dep_ in NP_LINKS:
                found.extend(self.in_noun_phrase(child, depth - 1))
            elif child.dep_ == "prep" and child.lower_ in NP_PREPOSITIONS and self._names_members(head):
                for pobj in child.children:
                    if pobj.dep_ == "pobj":
                        found.extend(self.in_noun_phrase(pobj, depth - 1))
        unique: list[Mention] = []
        for mention in found:
            if mention not in unique:
                unique.append(mention)
        # "The chancellor, Jane Doe, said": the name given beats the role's usual holder.
        return sorted(unique, key=lambda m: m.kind == "role")


def _longest_spans(spans: list[Span], doc: Doc) -> list[Span]:
    """Non-overlapping spans, longest first; on a tie a known person beats an organisation or a stranger."""

    def rank(span: Span) -> tuple[int, int, int]:
        label = span.label_
        personal = 0 if label.startswith(("N:", "R:")) else 1 if label.startswith(("A:", "P:")) else 2
        return (-len(span), personal, span.start)

    chosen: list[Span] = []
    taken: set[int] = set()
    for span in sorted(spans, key=rank):
        if taken.isdisjoint(range(span.start, span.end)):
            chosen.append(span)
            taken.update(range(span.start, span.end))
    return sorted(chosen, key=lambda s: s.start)


def _head_clause(token: Token) -> Token:
    while token.dep_ in {"compound", "appos", "flat", "nsubj", "nsubjpass"}:
        token = token.head
    return token


def _is_subject(token: Token) -> bool:
    while token.dep_ in {"compound", "appos", "flat"}:
        token = token.head
    return token.dep_ in SUBJECT_DEPS


def _preferred_person(persons: list[tuple[Mention, int, bool]], sentence_start: int) -> Mention | None:
    """The last person mentioned, preferring one who was a subject in the last two sentences."""
    if not persons:
        return None
    recent_sentences = sorted({start for _, start, _ in persons if start < sentence_start}, reverse=True)[:2]
    window = {*recent_sentences, sentence_start}
    for mention, start, was_subject in reversed(persons):
        if start in window and was_subject:
            return mention
    return persons[-1][0]
