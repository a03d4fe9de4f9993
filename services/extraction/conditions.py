"""Conditions in a sentence: what must happen first for a position to hold.

Three shapes are recognised:
  * a marker that opens a clause or phrase ("only if", "provided that", "once", "only with");
  * a demand made before something may happen ("X must do A and B before a vote");
  * "only" on a verb ("a pause can only be part of a wider settlement").
"""

from __future__ import annotations

from dataclasses import dataclass, field

from spacy.tokens import Doc, Span, Token

from services.extraction.lexicon import CompiledPack

# Words dropped from a condition's text because they only carry the obligation.
OBLIGATION_WORDS = frozenset(
    {"must", "should", "would", "will", "can", "could", "have", "has", "had", "to", "need", "needs"}
)
MARKERS_AFTER_ONLY = frozenset({"if", "with", "once", "after", "when", "in", "as", "provided", "until"})
ONLY_CONDITION_VERBS = frozenset(
    {"be", "hold", "work", "succeed", "come", "happen", "start", "begin", "last", "take"}
)
CLAUSE_BREAKS = frozenset({";", ":", "—", "–"})


@dataclass
class Condition:
    kind: str  # "marker" | "inverted" | "precondition" | "only"
    marker: Span
    tokens: set[int]  # the tokens that state the condition
    parts: list[str]  # the condition as short clauses
    # Tokens the condition governs, when that is not simply the rest of the sentence.
    governs: set[int] = field(default_factory=set)
    anchor: Token | None = None  # the predicate the condition hangs from


def find_conditions(
    sent: Span,
    compiled: CompiledPack,
    doc_matches: list[tuple[str, int, int]],
    cue_heads: set[int] | None = None,
) -> list[Condition]:
    """The conditions stated in `sent`; `doc_matches` are the grammar phrases of the whole document."""
    doc = sent.doc
    matches = [
        (label, start, end) for label, start, end in doc_matches if sent.start <= start and end <= sent.end
    ]
    markers = _longest_first(
        [(label, start, end) for label, start, end in matches if label in {"COND", "INVCOND"}]
    )
    conditions: list[Condition] = []
    starts = sorted(start for _, start, _ in markers)
    deontic = _first_deontic(sent, compiled)
    for label, start, end in markers:
        if label == "INVCOND" and deontic is not None and deontic.i < start:
            continue  # "must ... until" reads as a precondition, handled below
        if label == "INVCOND" and _is_date(doc[end : sent.end]):
            continue  # "until midnight on Sunday" bounds a period, it sets no condition
        stop = min([s for s in starts if s > start] + [sent.end])
        if _is_main_verb(doc[start:end]):
            continue  # "allies had provided aid" is no "provided (that)"
        tokens = _clause_after(doc[start:end], stop)
        if not tokens or (_is_durative(doc[start:end], compiled) and _is_vacuous(doc, tokens, compiled)):
            continue  # "for as long as necessary" promises more, it sets no terms
        kind = "inverted" if label == "INVCOND" else "marker"
        marker = doc[start:end]
        governed, anchor = _governed(marker)
        conditions.append(Condition(kind, marker, tokens, clause_parts(sent, tokens), governed, anchor))
    if deontic is not None:
        for label, start, end in sorted(matches, key=lambda m: m[1]):
            if label == "PRECOND" and start > deontic.i and not _is_date(doc[end : sent.end]):
                condition = _precondition(sent, deontic, doc[start:end])
                if condition is not None:
                    conditions.append(condition)
                    break
    for label, start, end in matches:
        if label == "PRINCIPLE":
            condition = _but_clause(sent, doc[start:end])
            if condition is not None:
                conditions.append(condition)
    conditions.extend(_condition_nouns(sent, compiled))
    marked = {i for c in conditions for i in c.tokens}
    conditions.extend(_only_conditions(sent, {s for _, s, _ in markers}, marked))
    conditions.extend(_requirements_on_subject(sent, compiled, marked, cue_heads or set()))
    return conditions


def _condition_nouns(sent: Span, compiled: CompiledPack) -> list[Condition]:
    """ "A halt to X was the key condition for a truce": the subject is what the truce requires."""
    nouns = compiled.words("precondition_nouns")
    found: list[Condition] = []
    for token in sent:
        if token.lemma_.lower() not in nouns:
            continue
        purpose = next((c for c in token.children if c.dep_ == "prep" and c.lower_ == "for"), None)
        if token.dep_ in {"attr", "oprd"}:
            copula = token.head
            subject = next((c for c in copula.children if c.dep_ in {"nsubj", "nsubjpass"}), None)
        elif token.dep_ == "pobj" and token.head.lower_ == "as":
            # "demanded X and Y as conditions for a pause": the demands are the conditions.
            copula = token.head.head
            while copula.pos_ in {"NOUN", "PROPN"} and copula.dep_ in {"conj", "dobj", "pobj", "appos"}:
                copula = copula.head  # the parser may hang "as conditions" on the last demand
            subject = next((c for c in copula.children if c.dep_ == "dobj"), None)
        else:
            continue
        if purpose is None or subject is None:
            continue
        tokens = without_asides(sent.doc, {t.i for t in subject.subtree})
        governed = {t.i for t in purpose.subtree}
        marker = sent.doc[token.i : token.i + 1]
        found.append(Condition("precondition", marker, tokens, clause_parts(sent, tokens), governed, copula))
    return found


def _but_clause(sent: Span, marker: Span) -> Condition | None:
    """ "ready for a pause in principle, but X must stop first": X stopping is the condition."""
    doc = sent.doc
    but = next((t for t in doc[marker.end : sent.end] if t.lower_ == "but"), None)
    if but is None:
        return None
    tokens = {i for i in range(but.i + 1, sent.end) if not doc[i].is_space}
    tokens = without_asides(doc, tokens)
    if not tokens:
        return None
    return Condition("marker", marker, tokens, clause_parts(sent, tokens), set(), None)


def _obliged_verb(token: Token, modals: frozenset[str]) -> Token | None:
    """The verb a modal obliges: "must <be>", or "had to <be>" where "had" heads the phrase."""
    if token.lower_ in modals and token.dep_ == "aux":
        return token.head
    following = token.nbor(1) if token.i + 1 < len(token.doc) else None
    if following is not None and f"{token.lower_} {following.lower_}" in modals:
        complement = next((c for c in token.children if c.dep_ == "xcomp"), None)
        if complement is not None and any(c.dep_ in {"nsubj", "nsubjpass"} for c in token.children):
            return token  # the subject hangs from "had"; the obligation is its complement
    return None


def _is_main_verb(marker: Span) -> bool:
    if len(marker) != 1 or marker[0].pos_ != "VERB":
        return False
    return any(c.dep_ in {"aux", "nsubj", "nsubjpass", "dobj"} for c in marker[0].children)


def _is_durative(marker: Span, compiled: CompiledPack) -> bool:
    return marker.text.lower() in compiled.words("durative_condition_markers")


def _is_vacuous(doc: Doc, tokens: set[int], compiled: CompiledPack) -> bool:
    text = " ".join(doc[i].lower_ for i in sorted(tokens) if not doc[i].is_punct)
    return text in compiled.words("vacuous_conditions")


def _requirements_on_subject(
    sent: Span, compiled: CompiledPack, marked: set[int], cue_heads: set[int]
) -> list[Condition]:
    """ "Any pause must be monitored by observers": what the subject must be is its condition."""
    modals = compiled.words("deontic_modals")
    lasting = compiled.words("persistence_verbs")
    conditions: list[Condition] = []
    for token in sent:
        verb = _obliged_verb(token, modals)
        if verb is None:
            continue
        subjects = [c for c in verb.children if c.dep_ in {"nsubj", "nsubjpass"}]
        if not subjects or verb.lemma_.lower() in lasting or verb.i in marked:
            continue
        if verb.dep_ in {"acl", "relcl", "advcl"}:
            continue  # "rejected the idea that X should be Y" sets no terms of its own
        governed = {t.i for s in subjects for t in s.subtree}
        if not governed & cue_heads:
            continue  # only terms set for a topic named as the subject
        own = [c for c in verb.children if c.dep_ not in {"conj", "cc", "punct"} and c.i > token.i]
        tokens = {t.i for c in own for t in c.subtree if t.i not in marked} | {verb.i}
        if _is_vacuous(sent.doc, {i for i in tokens if sent.doc[i].lower_ not in OBLIGATION_WORDS}, compiled):
            continue  # "X had to come first" ranks X first; it sets no terms for it
        tokens = without_asides(sent.doc, {i for i in tokens if i < sent.end})
        if not tokens:
            continue
        marker = sent.doc[token.i : token.i + 1]
        conditions.append(Condition("only", marker, tokens, clause_parts(sent, tokens), governed, verb))
    return conditions


def _governed(marker: Span) -> tuple[set[int], Token | None]:
    """What a condition clause qualifies: the clause it hangs from, or (empty) the whole sentence."""
    last = marker[-1]
    opens_clause = last.dep_ == "mark" or (last.dep_ == "advmod" and last.head.i > last.i)
    clause = last.head if opens_clause else last
    attached_to = clause.head
    while marker.start <= attached_to.i < marker.end and attached_to.head.i != attached_to.i:
        if any(c.dep_ in {"nsubj", "nsubjpass"} for c in attached_to.children):
            break  # "participation would depend on X": the marker's own verb is the anchor
        attached_to = attached_to.head  # "provided that X": the clause hangs from "provided"
    if attached_to.i == clause.i or attached_to.dep_ == "ROOT":
        return set(), attached_to
    return {t.i for t in attached_to.subtree}, attached_to


def _is_date(rest: Span) -> bool:
    """ "before 2014" dates something; "before a vote" sets an order of events."""
    if len(rest) == 0:
        return False
    return rest[0].like_num or any(t.ent_type_ in {"DATE", "TIME"} for t in rest[:2])


def _longest_first(matches: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    chosen: list[tuple[str, int, int]] = []
    for label, start, end in sorted(matches, key=lambda m: (m[1] - m[2], m[1])):
        if all(end <= s or start >= e for _, s, e in chosen):
            chosen.append((label, start, end))
    return sorted(chosen, key=lambda m: m[1])


def _first_deontic(sent: Span, compiled: CompiledPack) -> Token | None:
    modals = compiled.words("deontic_modals")
    for token in sent:
        if token.lower_ in modals:
            return token
        if token.i + 1 < sent.end and f"{token.lower_} {token.nbor(1).lower_}" in modals:
            return token
    return None


def _clause_after(marker: Span, stop: int) -> set[int]:
    """The tokens of the clause or phrase a marker opens, up to `stop`."""
    last = marker[-1]
    extent = last.head.subtree if last.dep_ == "mark" else last.subtree
    indices = {t.i for t in extent if marker.end <= t.i < stop}
    if not indices:
        # The parse did not attach the clause to the marker: take the words up to a break.
        indices = set()
        for token in marker.doc[marker.end : stop]:
            if token.text in CLAUSE_BREAKS or (token.text == "," and indices and _starts_aside(token)):
                break
            indices.add(token.i)
    if indices and _is_fronted(marker):
        last_token = max(indices)
        after = last_token if marker.doc[last_token].text == "," else last_token + 1
        indices |= _bare_verb_segments(marker.doc, after, stop)
    # A clause ends at a semicolon or dash even when the parse runs on.
    ordered = sorted(indices)
    kept: set[int] = set()
    for i in ordered:
        if marker.doc[i].text in CLAUSE_BREAKS:
            break
        kept.add(i)
    return without_asides(marker.doc, kept)


def _is_fronted(marker: Span) -> bool:
    start = marker.sent.start
    return all(t.is_punct or t.is_space for t in marker.doc[start : marker.start])


def _bare_verb_segments(doc: Doc, start: int, stop: int) -> set[int]:
    """ "If they can agree, sign and comply, ...": the parser often loses the later verbs."""
    absorbed: set[int] = set()
    i = start
    while i + 1 < stop and doc[i].text == "," and doc[i + 1].tag_ == "VB":
        j = i + 1
        while j < stop and doc[j].text != ",":
            j += 1
        absorbed.update(range(i + 1, j))
        i = j
    return absorbed


def _starts_aside(comma: Token) -> bool:
    following = comma.nbor(1) if comma.i + 1 < len(comma.doc) else None
    return following is not None and following.pos_ in {"PRON", "PROPN", "DET"}


def without_asides(doc, indices: set[int]) -> set[int]:
    """Drop parenthetical reporting ("he said") and relative clauses trailing off the condition."""
    drop: set[int] = set()
    for i in indices:
        token = doc[i]
        if token.dep_ in {"parataxis", "relcl"} and token.i != min(indices):
            drop.update(t.i for t in token.subtree)
    kept = indices - drop
    while kept and doc[max(kept)].is_punct:
        kept.discard(max(kept))
    while kept and (doc[min(kept)].is_punct or doc[min(kept)].lower_ in {"that", "and"}):
        kept.discard(min(kept))
    return kept


def clause_parts(sent: Span, indices: set[int]) -> list[str]:
    """A condition split at coordinated verbs, each part keeping the shared subject."""
    if not indices:
        return []
    doc = sent.doc
    ordered = sorted(indices)
    splits: list[int] = []
    for i in ordered:
        token = doc[i]
        if token.dep_ == "cc" and token.lower_ in {"and", "or"} and token.head.i in indices:
            head = token.head
            sibling = next((c for c in head.children if c.dep_ == "conj" and c.i > token.i), None)
            if sibling is not None and sibling.pos_ in {"VERB", "AUX"} and sibling.i in indices:
                splits.append(i)
    groups: list[list[int]] = []
    current: list[int] = []
    for i in ordered:
        if i in splits:
            groups.append(current)
            current = []
            continue
        current.append(i)
    groups.append(current)
    subject = _subject_words(doc, ordered)
    subject_is_singular = any(doc[i].dep_ == "nsubj" and _is_singular(doc[i]) for i in ordered)
    parts: list[str] = []
    for number, group in enumerate(groups):
        words = [doc[i] for i in group if not _is_obligation(doc[i])]
        while words and (words[-1].is_punct or words[-1].lower_ in {"and", "or", "only"}):
            words.pop()
        while words and (words[0].is_punct or words[0].lower_ in {"and", "or", "only", "that"}):
            words.pop(0)
        if not words:
            continue
        forms = _finite_forms(words)
        shares_subject = number > 0 and subject and not any(w.dep_ in {"nsubj", "nsubjpass"} for w in words)
        if shares_subject and subject_is_singular and words[0].tag_ in {"VB", "VBP"}:
            forms[words[0].i] = third_person(words[0].text)
        text = _join(words, forms)
        if shares_subject:
            text = f"{subject} {text}"
        parts.append(text)
    return parts


# A demand's clause keeps its verb bare ("demanded that the other side cede"; "must cede" once the
# modal is dropped): as a stand-alone condition it reads as a statement, so the verb agrees with a
# singular subject.
IRREGULAR_THIRD_PERSON = {"be": "is", "have": "has", "do": "does", "go": "goes"}
PLURAL_PRONOUNS = frozenset({"i", "you", "we", "they"})


def third_person(verb: str) -> str:
    lower = verb.lower()
    if lower in IRREGULAR_THIRD_PERSON:
        return IRREGULAR_THIRD_PERSON[lower]
    if lower.endswith(("s", "sh", "ch", "x", "z", "o")):
        return verb + "es"
    if len(lower) > 1 and lower.endswith("y") and lower[-2] not in "aeiou":
        return verb[:-1] + "ies"
    return verb + "s"


def _is_singular(subject: Token) -> bool:
    if subject.lower_ in PLURAL_PRONOUNS or any(c.dep_ == "conj" for c in subject.children):
        return False
    return subject.tag_ in {"NN", "NNP"} or subject.lower_ in {"he", "she", "it"}


def _finite_forms(words: list[Token]) -> dict[int, str]:
    """Bare verbs with a singular subject of their own, in their third-person form."""
    kept = {w.i for w in words}
    forms: dict[int, str] = {}
    for word in words:
        if word.tag_ not in {"VB", "VBP"} or word.pos_ not in {"VERB", "AUX"}:
            continue
        children = list(word.children)
        if any(c.dep_ in {"aux", "auxpass"} and c.i in kept for c in children):
            continue  # "will withdraw", "to withdraw": the helper carries the tense
        subject = next((c for c in children if c.dep_ == "nsubj"), None)
        if subject is None and word.dep_ == "conj":
            subject = next((c for c in word.head.children if c.dep_ == "nsubj"), None)
        if subject is not None and _is_singular(subject):
            forms[word.i] = third_person(word.text)
    return forms


def _is_obligation(token: Token) -> bool:
    """ "must", "has to", "needs to": the demand's modality, not part of what is demanded."""
    if token.lower_ not in OBLIGATION_WORDS or token.pos_ not in {"AUX", "PART"}:
        return False
    if token.lower_ == "to":
        return token.i > 0 and token.nbor(-1).lower_ in OBLIGATION_WORDS
    return True


def _subject_words(doc, ordered: list[int]) -> str:
    for i in ordered:
        token = doc[i]
        if token.dep_ in {"nsubj", "nsubjpass"}:
            return _join([t for t in token.subtree if t.i in set(ordered)])
    return ""


def _join(tokens: list[Token], replacements: dict[int, str] | None = None) -> str:
    replacements = replacements or {}
    text = "".join(replacements.get(t.i, t.text) + t.whitespace_ for t in tokens).strip()
    return " ".join(text.split())


def _precondition(sent: Span, deontic: Token, marker: Span) -> Condition | None:
    """ "X must give up A and B before a vote": A and B are the conditions of the vote."""
    doc = sent.doc
    verb = deontic.head if deontic.dep_ == "aux" else deontic
    subject = next((c for c in verb.children if c.dep_ in {"nsubj", "nsubjpass"}), None)
    begin = subject.left_edge.i if subject is not None and subject.i < deontic.i else deontic.i
    tokens = {i for i in range(begin, marker.start) if not doc[i].is_space}
    tokens = without_asides(doc, tokens)
    if not tokens:
        return None
    governed = set(range(marker.end, sent.end))
    return Condition("precondition", marker, tokens, clause_parts(sent, tokens), governed)


def _only_conditions(sent: Span, marker_starts: set[int], marked: set[int]) -> list[Condition]:
    """ "X can only be Y": Y is what X requires."""
    conditions: list[Condition] = []
    for token in sent:
        if token.lower_ != "only" or token.dep_ != "advmod" or token.head.pos_ not in {"VERB", "AUX"}:
            continue
        following = token.nbor(1) if token.i + 1 < sent.end else None
        if following is None or following.lower_ in MARKERS_AFTER_ONLY or following.i in marker_starts:
            continue
        if any(start > token.i for start in marker_starts):
            continue  # "will only agree ... if X": the marker states the condition
        verb = token.head
        if not any(c.dep_ == "aux" and c.tag_ == "MD" for c in verb.children):
            continue  # "offered only a pause" limits, it does not condition
        if verb.lemma_.lower() not in ONLY_CONDITION_VERBS:
            continue  # "would only harm X" means merely; "can only be", "would only hold" set terms
        tokens = {t.i for t in verb.subtree if token.i < t.i < sent.end}
        if tokens & marked:
            continue  # "would only hold if ...": the marker states the condition
        tokens = without_asides(sent.doc, tokens)
        if not tokens:
            continue
        governed = {t.i for t in verb.subtree if t.i < token.i}
        conditions.append(
            Condition("only", sent.doc[token.i : token.i + 1], tokens, clause_parts(sent, tokens), governed)
        )
    return conditions
