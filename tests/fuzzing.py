"""What the fuzz tests share: the schema, how many examples they try, and hostile JSON shapes."""

import json
import os

import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from services.api.app import app

schema = schemathesis.openapi.from_asgi("/openapi.json", app)

# CI runs a fixed set of examples so a landing never hinges on luck; STANCE_FUZZ_EXAMPLES=500
# explores further and afresh each run.
fuzz_settings = settings(
    max_examples=int(os.environ.get("STANCE_FUZZ_EXAMPLES", "40")),
    derandomize="STANCE_FUZZ_EXAMPLES" not in os.environ,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)

ARTICLE_BODY = (
    "Russia said on Tuesday that it would accept a ceasefire only if Ukraine gave up its bid to join "
    "NATO, while officials in Kyiv said they were ready for talks with the United States."
)
HOLE = "__HOSTILE__"


def _deep(depth: int, leaf: str) -> str:
    return "[" * depth + leaf + "]" * depth


# Raw JSON fragments that once turned into 500s (or could): each is spliced into a document
# verbatim, since no JSON encoder would write them.
hostile_fragments = st.one_of(
    st.sampled_from(["\\ud800", "\\udfff", "\\udc00\\ud800", "x\\ud83d"]).map(lambda s: f'"{s}"'),
    st.integers(min_value=20, max_value=6_000).map(lambda n: "9" * n),
    st.integers(min_value=20, max_value=6_000).map(lambda n: "-" + "1" * n),
    st.integers(min_value=309, max_value=99_999).map(lambda n: f"1e{n}"),
    st.tuples(st.integers(min_value=33, max_value=1_500), st.sampled_from(["", "1", '"x"', "{}"])).map(
        lambda t: _deep(*t)
    ),
    st.sampled_from(
        [
            '"0001-01-01T00:00:00+14:00"',
            '"0001-01-01T05:00:00+05:01"',
            '"9999-12-31T23:59:59-00:01"',
            '"0000-01-01T00:00:00Z"',
            '"2025-02-30T00:00:00Z"',
        ]
    ),
    st.integers(min_value=2_049, max_value=5_000).map(lambda n: json.dumps("https://x.example/" + "a" * n)),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e-99999", "[1,]", '{"a":1,}', "\\u0000"]),
)


def _splice(document: object, fragment: str) -> str:
    return json.dumps(document).replace(json.dumps(HOLE), fragment)


def _article(field: str) -> dict[str, object]:
    return {"body": ARTICLE_BODY, field: HOLE}


article_fields = st.sampled_from(["body", "title", "url", "source", "published_at", "language", "extra"])

# (method, path, raw JSON text) for every operation that reads a JSON body.
hostile_requests = st.one_of(
    st.builds(
        lambda f, x: ("POST", "/v1/articles", _splice(_article(f), x)), article_fields, hostile_fragments
    ),
    st.builds(
        lambda f, x, first: (
            "POST",
            "/v1/articles/batch",
            _splice(
                {"articles": [{"body": ARTICLE_BODY + " Again."}, _article(f)][:: 1 if first else -1]}, x
            ),
        ),
        article_fields,
        hostile_fragments,
        st.booleans(),
    ),
    st.builds(lambda x: ("POST", "/v1/articles/batch", _splice({"articles": HOLE}, x)), hostile_fragments),
    st.builds(
        lambda f, x: ("POST", "/v1/subscriptions", _splice({"url": "https://hooks.example/", f: HOLE}, x)),
        st.sampled_from(["url", "description", "actors", "topics", "event_types"]),
        hostile_fragments,
    ),
    st.builds(
        lambda f, x: ("POST", "/v1/keys", _splice({"name": "k", "scopes": ["read"], f: HOLE}, x)),
        st.sampled_from(["name", "scopes"]),
        hostile_fragments,
    ),
    st.builds(lambda x: ("POST", "/v1/articles", x), hostile_fragments),
)
