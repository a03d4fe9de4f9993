"""Features of a candidate for the learned decision: who holds it, how it is linked, what flips it.

Features are named strings (sparse, binary unless a value is given). They read the sentence's
structure, not its words alone: the dependency path between holder and topic, the holder's role
(subject, possessor, object), negation and refusal on the path, conditional markers governing the
cue, and the rules' own reading as one more signal.
"""

from __future__ import annotations

from spacy.tokens import Token

from services.extraction.candidates import Candidate
from services.extraction.lexicon import CompiledPack

SUBJECT_DEPS = frozenset({"nsubj", "nsubjpass", "csubj", "agent"})
CLAUSE_POS = frozenset({"VERB", "AUX", "ADJ", "NOUN"})
WINDOW = 3
QUOTE_MARKS = frozenset('"“”')


def _lemma(token: Token) -> str:
    return token.lemma_.lower()


def _bucket(n: int) -> str:
    return str(n) if n < 4 else "4-6" if n < 7 else "7-10" if n < 11 else "11+"


def nearest_holder(cue_head: Token, actor_at: dict[int, str]) -> tuple[str | None, Token | None]:
    """The actor that is subject of the closest predicate above the cue, and that predicate."""
    token = cue_head
    for _ in range(12):
        for child in token.children:
            if child.dep_ in SUBJECT_DEPS or (child.dep_ == "poss" and token.pos_ == "NOUN"):
                for t in child.subtree:
                    if t.i in actor_at:
                        return actor_at[t.i], token
                if child.dep_ in SUBJECT_DEPS:
                    return None, token  # a subject the pack does not know
        if token.head.i == token.i:
            break
        token = token.head
    return None, None


def holder_role(candidate: Candidate, mention_root: Token) -> str:
    cue_span = range(candidate.cue.span.start, candidate.cue.span.end)
    if mention_root.i in cue_span or any(
        a.i in cue_span for a in mention_root.ancestors if a.i != mention_root.i
    ):
        if mention_root.dep_ in {"poss", "compound", "amod"}:
            return "possessor_in_cue"
        return "inside_cue_phrase"
    if mention_root.dep_ in SUBJECT_DEPS:
        return "subject_above" if mention_root.head in candidate.path_up else "subject_elsewhere"
    if mention_root.dep_ == "poss":
        return "possessor"
    if mention_root.dep_ in {"dobj", "dative", "iobj"}:
        return "object"
    if mention_root.dep_ == "pobj":
        return f"pobj_{mention_root.head.lower_}"
    if mention_root.dep_ in {"appos", "conj", "compound"}:
        return f"{mention_root.dep_}_of_{mention_root.head.dep_}"
    return "other"


def candidate_features(
    candidate: Candidate, compiled: CompiledPack, year: int, actor_at: dict[int, str] | None = None
) -> dict[str, float]:
    sent = candidate.sentence
    doc = sent.doc
    cue = candidate.cue
    mention_root = candidate.mention.root(doc)
    f: dict[str, float] = {}

    def add(name: str, value: float = 1.0) -> None:
        f[name] = f.get(name, 0.0) + value

    topic = candidate.topic
    add(f"topic={topic}")
    add(f"kind={candidate.mention.kind}")
    add("person" if candidate.mention.person else "organisation")
    if candidate.carried:
        add("carried")
    else:
        role = holder_role(candidate, mention_root)
        add(f"role={role}")
        add(f"role_topic={role}|{topic}")
        add(f"mdep={mention_root.dep_}")
        add(f"mhead={_lemma(mention_root.head)}")
        add(f"mdep_head={mention_root.dep_}>{mention_root.head.pos_}")
    add(f"dist={_bucket(candidate.distance)}")
    add(f"cue={cue.span.text.lower()}")
    add(f"cue_dep={cue.head.dep_}")
    add(f"cue_head={_lemma(cue.head.head)}")
    add(f"cue_head_pos={cue.head.head.pos_}")
    if cue.reversed:
        add("cue_reversed")

    if actor_at is not None:
        nearest, predicate = nearest_holder(cue.head, actor_at)
        if nearest == candidate.actor:
            add("nearest_holder")
            if predicate is not None:
                add(f"nearest_pred={_lemma(predicate)}")
        elif nearest is not None:
            add("other_actor_nearer")
        elif predicate is not None:
            add("unknown_subject_nearer")
            add(f"unknown_subject_pred={_lemma(predicate)}")
        else:
            add("no_subject_above")
        reporting = compiled.words("reporting_verbs")
        root = sent.root
        if _lemma(root) in reporting:
            subjects = [c for c in root.children if c.dep_ in SUBJECT_DEPS]
            speakers = {actor_at[t.i] for c in subjects for t in c.subtree if t.i in actor_at}
            add("reported_by_holder" if candidate.actor in speakers else "reported_by_other")

    # The path: its shape and the words on it.
    up, down = candidate.path_up, candidate.path_down
    lca = up[-1] if up else cue.head
    add(f"lca={_lemma(lca)}")
    add(f"lca_pos={lca.pos_}")
    add(f"lca_topic={topic}|{_lemma(lca)}")
    shape = "^".join(t.dep_ for t in up[:-1]) + "|" + "v".join(t.dep_ for t in down)
    add(f"shape={shape[:60]}")
    add(f"first_up={up[0].dep_ if up else '-'}")
    on_path = up[1:] + down
    for token in on_path:
        add(f"pw={_lemma(token)}")
        if token.pos_ in CLAUSE_POS:
            add(f"pw_topic={topic}|{_lemma(token)}")
    negated = [t for t in [*on_path, cue.head] if any(c.dep_ == "neg" for c in t.children)]
    if negated:
        add("neg_on_path", len(negated))
        for token in negated:
            add(f"neg_word={_lemma(token)}")
    flips = compiled.words("flip_verbs") | compiled.words("flip_adjectives")
    flipped = [t for t in on_path if _lemma(t) in flips]
    if flipped:
        add("flip_on_path", len(flipped))
        if negated:
            add("flip_and_neg")
    subject_of_lca = any(t.dep_ in SUBJECT_DEPS for t in up[:-1][-1:]) if len(up) > 1 else False
    if subject_of_lca and not candidate.carried:
        add("holder_is_subject_of_link")
    # Around the cue.
    for token in doc[max(sent.start, cue.span.start - WINDOW) : cue.span.start]:
        add(f"left={_lemma(token)}")
    for token in doc[cue.span.end : min(sent.end, cue.span.end + WINDOW)]:
        add(f"right={_lemma(token)}")
    for token in cue.head.children:
        if token.dep_ in {"amod", "compound", "neg", "det"}:
            add(f"cue_mod={_lemma(token)}")

    # The sentence.
    lowered = sent.text.lower()
    if sent.text.rstrip().rstrip("\"'”’)").endswith("?"):
        add("question")
    if any(ch in QUOTE_MARKS for ch in sent.text):
        add("quoted")
    for token in sent:
        if token.pos_ in {"VERB", "AUX", "SCONJ", "PART", "ADV"} or token.dep_ in {"neg", "mark"}:
            add(f"sw={_lemma(token)}")
        if token.like_num and len(token.text) == 4 and token.text.isdigit():
            add("past_year" if int(token.text) < year else "year")
    for marker in ("only if", "unless", "provided", "as long as", "until", "in exchange", "on condition"):
        if marker in lowered:
            add(f"marker={marker}")
    if candidate.index == 0:
        add("headline")
    actors = {m for m in candidate.sentence_actors}
    add(f"n_actors={_bucket(len(actors))}")
    if len(candidate.sentence_topics) > 1:
        add("several_topics")

    add(f"topic_score={_bucket(int(candidate.topic_score * 10))}")
    if candidate.paraphrased:
        add("paraphrased")
        add(f"paraphrased_topic={topic}")
    if candidate.carried:
        add(f"carried_kind={candidate.mention.kind}")
        if "quoted" in f:
            add("carried_into_quote")

    if candidate.conditioned:
        add("conditioned")
        add(f"conditioned_topic={topic}")
        if candidate.rule_stances and "conditional" not in candidate.rule_stances:
            add("conditioned_but_rules_not")

    # The rules' reading, as evidence, not as the answer.
    for stance in candidate.rule_stances:
        add(f"rule={stance}")
        add(f"rule_topic={stance}|{topic}")
    if not candidate.rule_stances:
        add("rule=none")
    return f
