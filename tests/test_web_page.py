"""The web page in a real headless Chromium: hostile article text never runs, and the key is handled
with care. Plus the security headers on every response."""

import uuid
from typing import Any

import httpx

from services.api.app import StanceAPI
from services.articles import service as articles
from services.db import session_scope
from services.extraction.schemas import Claim
from services.positions import projector
from tests.browser import Page, chromium
from tests.factories import T0, ScriptedExtractor, article

# Each payload, if it ever ran, would change the title or set a flag the test reads.
ATTRIBUTE = '"its troops" onmouseover="document.title=\'pwned-attribute\';window.__pwned=1" x="'
SCRIPT = "<script>document.title='pwned-script';window.__pwned=1</script>"
IMAGE = "<img src=x onerror=\"document.title='pwned-img';window.__pwned=1\">"
JS_URL = "javascript:document.title='pwned-url';window.__pwned=1"
TITLE = "Stance Tracker"


def hostile_ledger() -> None:
    """A position whose every article-derived field carries a payload, its url a javascript: one."""
    body = f"hostile {uuid.uuid4()}"
    quote = f"Moscow {SCRIPT} {IMAGE} {ATTRIBUTE} says no."
    hostile = Claim(
        actor="russia",
        topic="ceasefire",
        stance="conditional",
        conditions=[ATTRIBUTE, SCRIPT, IMAGE],
        summary=f"Russia: ceasefire conditional on {ATTRIBUTE} {SCRIPT} {IMAGE}",
        speaker=ATTRIBUTE,
        quote=quote,
        start=0,
        end=len(quote),
        confidence=0.9,
    )
    with session_scope() as session:
        # Stored directly: the API refuses a javascript: url, but rows from elsewhere may hold one.
        row = article(session, T0, body=body, url=JS_URL, source=f"{SCRIPT}{IMAGE}", title=ATTRIBUTE)
        articles.process(session, row.id, ScriptedExtractor({body: [hostile]}))
    with session_scope() as session:
        while projector.project_batch(session, 100):
            pass


# Hover every element (the attribute payload needs a mouseover), click every link, then report.
PROVOKE = """(() => {
  for (const node of document.querySelectorAll('*')) {
    for (const type of ['mouseover', 'mouseenter', 'focus']) {
      node.dispatchEvent(new MouseEvent(type, {bubbles: true}));
    }
  }
  for (const link of document.querySelectorAll('#timeline a')) link.click();
  return true;
})()"""


def provoke(page: Page) -> None:
    page.evaluate(PROVOKE)
    # A handler or a javascript: link, had one been made, has run by the time the loop yields.
    page.evaluate("new Promise((resolve) => setTimeout(resolve, 0))")


def test_hostile_article_text_does_not_run_in_the_page(server: str, make_key: Any) -> None:
    hostile_ledger()
    key = make_key("read")
    with chromium() as page:
        page.goto(f"{server}/?key={key}")
        page.wait("document.querySelectorAll('td.cell').length > 0", "the matrix")
        provoke(page)
        assert page.evaluate("[document.title, window.__pwned === undefined]") == [TITLE, True]
        cell_title = page.evaluate("document.querySelector('td.cell').title")
        assert ATTRIBUTE in cell_title  # shown as the text it is
        page.evaluate("document.querySelector('td.cell').click()")
        page.wait("document.querySelectorAll('#timeline .step').length > 0", "the timeline")
        provoke(page)
        quote = page.evaluate("document.querySelector('#timeline blockquote').textContent")
        assert SCRIPT in quote and IMAGE in quote
        assert page.evaluate("document.querySelectorAll('#timeline a').length") == 0  # no javascript: link
        assert page.evaluate("document.querySelectorAll('#matrix script, #timeline script, img').length") == 0
        assert page.evaluate("document.title") == TITLE
        assert page.evaluate("window.__pwned === undefined") is True


def test_the_key_from_the_url_wins_is_kept_for_the_tab_only_and_sign_out_clears_it(
    server: str, make_key: Any
) -> None:
    hostile_ledger()  # something to show
    key = make_key("read")
    with chromium() as page:
        page.goto(f"{server}/")
        page.evaluate(
            "localStorage.setItem('stanceKey', 'stk_stale'); sessionStorage.setItem('stanceKey', 'stk_old')"
        )
        page.goto(f"{server}/?key={key}&keep=1#here")
        page.wait("document.querySelectorAll('td.cell').length > 0", "the matrix with the URL's key")
        assert page.evaluate("location.search + location.hash") == "?keep=1#here"  # the key is gone
        assert page.evaluate("sessionStorage.getItem('stanceKey')") == key
        assert page.evaluate("localStorage.getItem('stanceKey')") is None
        assert page.evaluate("document.getElementById('error').textContent") == ""

        page.goto(f"{server}/")  # the same tab keeps it
        page.wait("document.querySelectorAll('td.cell').length > 0", "the matrix with the stored key")
        assert page.evaluate("document.getElementById('signout').hidden") is False

        page.evaluate("document.getElementById('signout').click()")
        assert page.evaluate("sessionStorage.getItem('stanceKey')") is None
        assert page.evaluate("document.getElementById('key').value") == ""
        assert page.evaluate("document.querySelectorAll('td.cell').length") == 0
        assert page.evaluate("document.getElementById('signout').hidden") is True
        page.goto(f"{server}/")
        assert page.evaluate("document.getElementById('key').value") == ""


EXPECTED = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def assert_secured(response: httpx.Response, csp: str | None = None) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (response.url, name)
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    if csp is not None:
        assert csp in policy


async def test_every_response_carries_the_security_headers(client: Any, auth: dict[str, str]) -> None:
    page = await client.get("/")
    assert_secured(page, "script-src 'self'; style-src 'self'")
    assert "<script>" not in page.text and "<style>" not in page.text and " on" not in page.text.lower()
    script = await client.get("/assets/app.js")
    assert script.headers["content-type"].startswith("text/javascript") and "textContent" in script.text
    assert "innerHTML" not in script.text and "localStorage.setItem" not in script.text
    assert_secured(script)
    assert_secured(await client.get("/assets/app.css"))
    assert (await client.get("/assets/nope.js")).status_code == 404
    for path in ("/healthz", "/v1/positions", "/v1/nope", "/v1/articles/x%00"):
        assert_secured(await client.get(path))
    assert_secured(await client.get("/v1/positions", headers=auth))
    docs = await client.get("/docs")
    assert_secured(docs, "'sha256-")

    crashing = StanceAPI()

    @crashing.get("/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    transport = httpx.ASGITransport(app=crashing, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        crashed = await http.get("/boom")
    assert crashed.status_code == 500
    assert_secured(crashed)
