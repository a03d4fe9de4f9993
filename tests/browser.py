"""A real headless Chromium driven over the DevTools protocol, for the web page's tests.

Debian's `chromium` package (`.ci/run` installs it when missing); the protocol is spoken over
the `websockets` client that uvicorn[standard] already brings.
"""

import json
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

from tests.conftest import wait_for

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--remote-debugging-port=0",
]


class JavaScriptError(AssertionError):
    pass


class DevTools:
    """One DevTools websocket; calls are answered by id, events in between are passed over."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.next_id = 0
        self.lock = threading.Lock()

    def call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> Any:
        with self.lock:
            self.next_id += 1
            message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
            if session:
                message["sessionId"] = session
            self.ws.send(json.dumps(message))
            while True:
                reply = json.loads(self.ws.recv(timeout=60))
                if reply.get("id") == self.next_id:
                    if "error" in reply:
                        raise JavaScriptError(f"{method}: {reply['error']}")
                    return reply["result"]


class Page:
    """One tab: navigate, evaluate expressions, read their values."""

    def __init__(self, devtools: DevTools, session: str) -> None:
        self.devtools = devtools
        self.session = session

    def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        return self.devtools.call(method, params, self.session)

    def evaluate(self, expression: str) -> Any:
        result = self.call(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True}
        )
        if "exceptionDetails" in result:
            raise JavaScriptError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def goto(self, url: str) -> None:
        self.evaluate("window.__leaving = true")  # gone once the new document is in place
        self.call("Page.navigate", {"url": url})
        self.wait("!window.__leaving && document.readyState === 'complete'", f"{url} to load")

    def wait(self, expression: str, message: str, timeout: float = 60) -> Any:
        return wait_for(lambda: self.evaluate(expression), timeout=timeout, message=message)


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise AssertionError("Chromium is not installed: `apt-get install chromium` (.ci/run does this)")
    return found


@contextmanager
def chromium() -> Iterator[Page]:
    """A fresh browser with its own profile, and one tab in it; both gone afterwards."""
    profile = Path(tempfile.mkdtemp(prefix="stance-chromium-"))
    process = subprocess.Popen(
        [chromium_path(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        wait_for(lambda: port_file.exists() and len(port_file.read_text().split()) == 2, timeout=60,
                 message="Chromium's DevTools port")  # fmt: skip
        port, path = port_file.read_text().split()
        with connect(f"ws://127.0.0.1:{port}{path}", max_size=None, open_timeout=30) as ws:
            devtools = DevTools(ws)
            target = devtools.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = devtools.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
                "sessionId"
            ]
            page = Page(devtools, session)
            page.call("Page.enable")
            page.call("Runtime.enable")
            yield page
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(profile, ignore_errors=True)
