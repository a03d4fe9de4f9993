"""Why an article yielded no claim: told to the client instead of a bare `skipped`.

The extractor only returns claims, so the reason is worked out here from the text and the domain
pack: text that is not English, text that names no actor of the pack at all, or actors named
without any stance the extractor could find.
"""

import re
from dataclasses import dataclass
from typing import Literal

from services.articles.text import UnreadableText, check_english
from services.extraction.schemas import DomainPack

# too_long: over STANCE_EXTRACTION_MAX_CHARS, not read at all (services.articles.service.process).
SkipReason = Literal["not_english", "no_actors", "no_stance", "too_long"]
SKIP_REASONS: tuple[SkipReason, ...] = ("not_english", "no_actors", "no_stance", "too_long")


@dataclass(frozen=True)
class Skip:
    reason: SkipReason
    detail: str


def why_skipped(body: str, pack: DomainPack) -> Skip:
    try:
        # Ingest already refuses text that is not English; rows stored before that check, or by
        # a client that imported them directly, still get the honest reason.
        check_english(body, 1)
    except UnreadableText as exc:
        return Skip("not_english", str(exc))
    if not _actor_names(pack).search(body):
        return Skip("no_actors", f"The article names none of the actors of the {pack.name!r} domain pack.")
    return Skip("no_stance", "The article names actors of the domain pack but states no stance of theirs.")


# Packs are few and long-lived (domain.load_domain_pack caches them) but not hashable: keyed by
# identity, with the pack kept alive beside its pattern so that an id is never reused.
_patterns: dict[int, tuple[DomainPack, re.Pattern[str]]] = {}


def _actor_names(pack: DomainPack) -> re.Pattern[str]:
    cached = _patterns.get(id(pack))
    if cached is None:
        cached = _patterns[id(pack)] = (pack, _compile(pack))
    return cached[1]


def _compile(pack: DomainPack) -> re.Pattern[str]:
    """One pattern for every way the pack names an actor or its people, as whole words.

    Bare titles ("president") are left out: they name nobody without an earlier mention.
    """
    names: set[str] = set()
    for actor in pack.actors:
        names.update([actor.name, *actor.aliases, *actor.demonyms, *actor.capitals, *actor.roles])
        for person in actor.persons:
            names.update([person.name, *person.aliases, *person.roles])
    alternatives = sorted((re.escape(n) for n in names if n.strip()), key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b", re.IGNORECASE)
