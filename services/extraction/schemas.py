"""Data shapes shared by the extractor, its callers and the domain pack."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Stance = Literal["support", "oppose", "conditional"]


class Evidence(BaseModel):
    quote: str
    start: int
    end: int
    speaker: str | None = None


class Claim(BaseModel):
    actor: str
    topic: str
    stance: Stance
    conditions: list[str] = Field(default_factory=list)
    summary: str
    speaker: str | None = None
    quote: str
    start: int
    end: int
    confidence: float = Field(ge=0.0, le=1.0)


class ArticleText(BaseModel):
    body: str
    title: str | None = None
    published_at: datetime | None = None


class _PackModel(BaseModel):
    # A typo in a pack key should fail loudly rather than silently drop a lexicon.
    model_config = ConfigDict(extra="forbid")


class PersonDef(_PackModel):
    """Someone whose words are recorded for the actor they speak for."""

    name: str
    aliases: list[str] = Field(default_factory=list)
    # Role phrases that name this very person ("the palace spokesman").
    roles: list[str] = Field(default_factory=list)
    # Bare titles that "the <title>" may refer back to ("president", "chancellor").
    titles: list[str] = Field(default_factory=list)


class ActorDef(_PackModel):
    id: str
    name: str
    aliases: list[str] = Field(default_factory=list)
    # Adjectives that make an actor of an official noun: "Ruritanian" in "the Ruritanian side".
    demonyms: list[str] = Field(default_factory=list)
    # Places that stand for the government as subjects ("Strelsau rejected") but not as venues.
    capitals: list[str] = Field(default_factory=list)
    # Role phrases that name the actor without a fixed person ("Ruritania's top diplomat").
    roles: list[str] = Field(default_factory=list)
    persons: list[PersonDef] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _id_is_slug(cls, value: str) -> str:
        if not value or value != value.strip().lower() or " " in value:
            raise ValueError("must be a lower-case slug without spaces")
        return value


class TopicDef(_PackModel):
    id: str
    name: str
    description: str
    # Cue syntax: words separated by spaces; "word*" matches a prefix, "a|b" alternatives,
    # "~" up to four arbitrary words.
    cues: list[str] = Field(min_length=1)
    # Cues whose mention states the opposite of the topic ("territorial integrity").
    reversed_cues: list[str] = Field(default_factory=list)
    # A weak topic is named in passing so often that it only counts in sentences about nothing else.
    weak: bool = False
    # Declining to take part oneself ("we will not send our own soldiers") is no opposition to it.
    participation: bool = False
    # A narrower kind of another topic: once named, "the <cue of the broader topic>" refers back to it.
    narrows: str | None = None
    # Cues too vague on their own ("membership"): they count only shortly after a full cue.
    context_cues: list[str] = Field(default_factory=list)
    # Words that, in or next to a cue, show it is about something else.
    exclude_words: list[str] = Field(default_factory=list)


class Lexicon(_PackModel):
    """Grammar-level cue words; lemmas unless said otherwise."""

    reporting_verbs: list[str]
    flip_verbs: list[str]
    flip_adjectives: list[str]
    flip_phrases: list[str] = Field(default_factory=list)
    negations: list[str]
    condition_markers: list[str]
    # "X will not happen as long as Y": the demand is that Y ends.
    durative_condition_markers: list[str] = Field(default_factory=list)
    vacuous_conditions: list[str] = Field(default_factory=list)
    principle_markers: list[str] = Field(default_factory=list)
    persistence_verbs: list[str] = Field(default_factory=list)
    participation_verbs: list[str] = Field(default_factory=list)
    inverted_condition_markers: list[str] = Field(default_factory=list)
    deontic_modals: list[str]
    precondition_markers: list[str]
    precondition_nouns: list[str] = Field(default_factory=list)
    hedges: list[str]
    hedge_verbs: list[str] = Field(default_factory=list)
    non_stance_verbs: list[str]
    question_words: list[str]
    outcome_words: list[str] = Field(default_factory=list)
    temporal_prepositions: list[str]
    venue_prepositions: list[str]
    agent_nouns: list[str]
    support_nouns: list[str] = Field(default_factory=list)
    oppose_nouns: list[str] = Field(default_factory=list)
    position_nouns: list[str] = Field(default_factory=list)
    position_verbs: list[str] = Field(default_factory=list)
    contact_verbs: list[str] = Field(default_factory=list)
    contact_topic: str | None = None
    # Actors whose leaders meeting or calling each other amounts to talks on the contact topic.
    contact_parties: list[str] = Field(default_factory=list)
    history_markers: list[str] = Field(default_factory=list)
    own_markers: list[str] = Field(default_factory=list)
    reason_markers: list[str] = Field(default_factory=list)
    # "backed the idea": a definite noun that takes the topic of the sentence before.
    anaphoric_nouns: list[str] = Field(default_factory=list)
    anaphoric_determiners: list[str] = Field(default_factory=list)
    person_pronouns: list[str]
    organisation_pronouns: list[str]


class DomainPack(_PackModel):
    name: str
    version: str
    description: str = ""
    actors: list[ActorDef] = Field(min_length=1)
    topics: list[TopicDef] = Field(min_length=1)
    lexicon: Lexicon
    # Claims below this confidence are not reported at all.
    min_confidence: float = Field(default=0.3, ge=0.0, le=1.0)
    # The actors the pack's world turns on: an article naming none of them is about something else,
    # however its words resemble a topic's (other sanctions, other summits, other peacekeepers).
    core_actors: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ids_are_unique_and_known(self) -> DomainPack:
        for kind, ids in (("actor", [a.id for a in self.actors]), ("topic", [t.id for t in self.topics])):
            duplicates = sorted({i for i in ids if ids.count(i) > 1})
            if duplicates:
                raise ValueError(f"duplicate {kind} ids: {', '.join(duplicates)}")
        topic_ids = {t.id for t in self.topics}
        unknown_core = sorted(set(self.core_actors) - {a.id for a in self.actors})
        if unknown_core:
            raise ValueError(f"core_actors names unknown actors: {', '.join(unknown_core)}")
        contact = self.lexicon.contact_topic
        if contact is not None and contact not in topic_ids:
            raise ValueError(f"lexicon.contact_topic {contact!r} is not a topic id")
        for topic in self.topics:
            if topic.narrows is not None and topic.narrows not in topic_ids:
                raise ValueError(f"topic {topic.id!r} narrows unknown topic {topic.narrows!r}")
        return self

    def actor(self, actor_id: str) -> ActorDef:
        return next(a for a in self.actors if a.id == actor_id)

    def topic(self, topic_id: str) -> TopicDef:
        return next(t for t in self.topics if t.id == topic_id)
