"""Candidates: every (actor, topic cue) of a sentence that could carry a stance, with its best holder reading.

Recall comes first here; the learned decision throws most candidates away. A candidate joins an
actor named (or resolved) in a sentence, or the holder carried over from the sentence before, to
a topic cue of that sentence. Of the actor's mentions in the sentence, the one closest to each cue
in the dependency tree stands for the candidate; a sentence naming a topic twice gives two
candidates, since the stance may hang from either mention.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from spacy.tokens import Span, Token

from services.extraction.mentions import Mention, MentionIndex
from services.extraction.pipeline import Cue, RawClaim
from services.extraction.topics import TopicModel

MAX_TREE_DISTANCE = 40


@dataclass
class Candidate:
    actor: str
    topic: str
    sentence: Span
    mention: Mention
    cue: Cue
    carried: bool  # the holder was named in the sentence before, not in this one
    distance: int  # edges between the holder and the cue in the dependency tree
    path_up: list[Token]  # from the holder's root up to the lowest common ancestor (inclusive)
    path_down: list[Token]  # from the lowest common ancestor down to the cue's head (exclusive)
    rule_stances: set[str] = field(default_factory=set)  # the rules' reading of this very sentence
    rule_conditions: list[str] = field(default_factory=list)  # the terms the rules read there
    index: int = 0  # the sentence's position in the article
    sentence_actors: set[str] = field(default_factory=set)
    sentence_topics: set[str] = field(default_factory=set)
    topic_score: float = 0.0  # the topic model's belief that the sentence is about the topic
    paraphrased: bool = False  # no cue names the topic; the topic model's telling word stands in
    conditioned: bool = False  # the sentence sets conditions on this cue

    @property
    def key(self) -> tuple[str, str]:
        return (self.actor, self.topic)


def ancestors(token: Token) -> list[Token]:
    """The token and its heads up to the root of its sentence."""
    chain = [token]
    while chain[-1].head.i != chain[-1].i and len(chain) < MAX_TREE_DISTANCE:
        chain.append(chain[-1].head)
    return chain


def tree_path(source: Token, target: Token) -> tuple[list[Token], list[Token]]:
    """The path between two tokens of one sentence: up from `source`, then down to `target`."""
    up = ancestors(source)
    down = ancestors(target)
    down_index = {t.i: n for n, t in enumerate(down)}
    for n, token in enumerate(up):
        if token.i in down_index:
            return up[: n + 1], list(reversed(down[: down_index[token.i]]))
    return up, list(reversed(down))  # different sentences' trees: no common ancestor


def find_candidates(
    sentences: list[Span],
    cues_by_sentence: dict[int, list[Cue]],
    mentions: MentionIndex,
    rule_claims: list[RawClaim],
    topic_model: TopicModel | None = None,
    topic_threshold: float = 0.5,
) -> list[Candidate]:
    by_sentence: dict[int, list[Mention]] = {}
    for mention in mentions.mentions:
        if mention.actor is not None:
            by_sentence.setdefault(mentions.sentence_start[mention.start], []).append(mention)
    rules: dict[tuple[str, str, int], set[str]] = {}
    rule_terms: dict[tuple[str, str, int], list[str]] = {}
    for claim in rule_claims:
        where = (claim.actor, claim.topic, claim.sentence.start)
        rules.setdefault(where, set()).add(claim.stance)
        terms = rule_terms.setdefault(where, [])
        terms.extend(c for c in claim.conditions if c not in terms)
    doc = mentions.doc
    found: list[Candidate] = []
    for index, sent in enumerate(sentences):
        own = by_sentence.get(sent.start, [])
        cues = list(cues_by_sentence.get(sent.start, []))
        scores = topic_model.scores(sent) if topic_model is not None else {}
        paraphrased: set[str] = set()
        if topic_model is not None:
            named = {c.topic for c in cues}
            for topic, score in scores.items():
                if topic not in named and score >= topic_threshold:
                    word = topic_model.telling_word(sent, topic)
                    cues.append(Cue(topic, doc[word.i : word.i + 1]))
                    paraphrased.add(topic)
        if not cues:
            continue
        holders = [(m, False) for m in own]
        named_actors = {m.actor for m in own}
        for neighbour in (index - 1, index + 1):
            if 0 <= neighbour < len(sentences):
                for mention in by_sentence.get(sentences[neighbour].start, []):
                    if mention.actor not in named_actors:
                        holders.append((mention, True))
        sentence_actors = {m.actor for m, _ in holders if m.actor is not None and m in own}
        best: dict[tuple[str, int], Candidate] = {}
        for mention, carried in holders:
            assert mention.actor is not None
            root = mention.root(doc)
            for number, cue in enumerate(cues):
                if carried:
                    up, down = ancestors(sent.root), list(reversed(ancestors(cue.head)[:-1]))
                    distance = len(up) + len(down) + 1
                else:
                    up, down = tree_path(root, cue.head)
                    distance = len(up) - 1 + len(down)
                key = (mention.actor, number)
                kept = best.get(key)
                if kept is not None and (kept.carried, kept.distance) <= (carried, distance):
                    continue
                best[key] = Candidate(
                    actor=mention.actor,
                    topic=cue.topic,
                    sentence=sent,
                    mention=mention,
                    cue=cue,
                    carried=carried,
                    distance=distance,
                    path_up=up,
                    path_down=down,
                    rule_stances=rules.get((mention.actor, cue.topic, sent.start), set()),
                    rule_conditions=rule_terms.get((mention.actor, cue.topic, sent.start), []),
                    index=index,
                    sentence_actors=sentence_actors,
                    sentence_topics={c.topic for c in cues},
                    topic_score=scores.get(cue.topic, 0.0),
                    paraphrased=cue.topic in paraphrased,
                )
        found.extend(best.values())
    return found
