"""Turning what clients send into clean article text, and refusing what cannot be read."""

import hashlib
import re
import unicodedata

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_SPACE = re.compile(r"\s+")
# The commonest English function words: running text in English is rarely under a fifth of them.
_ENGLISH_FUNCTION_WORDS = frozenset(
    """the of and to a in is was that for on with as by at it from his her their be are were has have had
    not but or an this which will would said he she they its who been than also after over""".split()
)


class UnreadableText(ValueError):
    """The text cannot be read as an English article; the message says why."""


def decode_utf8(raw: bytes) -> str:
    if b"\x00" in raw:
        raise UnreadableText("The body looks binary (it contains NUL bytes); send UTF-8 text.")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableText(f"The body is not valid UTF-8 (byte {exc.start}); send UTF-8 text.") from exc


def clean_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise UnreadableText("The article body is empty.")
    if "\x00" in text:
        raise UnreadableText("The body looks binary (it contains NUL characters); send UTF-8 text.")
    controls = sum(1 for ch in text if unicodedata.category(ch) in ("Cc", "Cs", "Co") and ch not in "\n\t")
    if controls > max(2, len(text) // 200):
        raise UnreadableText("The body looks binary (control characters); send UTF-8 text.")
    return text


def check_english(text: str, min_chars: int) -> None:
    if len(text) < min_chars:
        raise UnreadableText(f"The article body is too short to read ({len(text)} < {min_chars} characters).")
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < 8:
        raise UnreadableText("The article body has too few words to read.")
    share = sum(w in _ENGLISH_FUNCTION_WORDS for w in words) / len(words)
    if share < 0.08:
        raise UnreadableText("The article does not look like English; only English articles are read.")


def html_to_text(html: str) -> tuple[str, str | None]:
    import trafilatura

    text = trafilatura.extract(html, include_comments=False, include_tables=False, favor_precision=True)
    title = None
    metadata = trafilatura.extract_metadata(html)
    if metadata is not None and metadata.title:
        title = metadata.title
    if not text:
        raise UnreadableText("No article text could be found in the HTML.")
    return text, title


def content_hash(text: str) -> str:
    normalised = _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()
    return hashlib.sha256(normalised.encode()).hexdigest()
