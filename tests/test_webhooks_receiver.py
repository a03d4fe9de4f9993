"""A real HTTP webhook receiver on loopback for the webhook tests (no tests of its own).

Every request is checked with the `standardwebhooks` package, as a subscriber would. The test
scripts how the receiver answers each request: a status code, a hang past the sender's timeout,
or a connection reset.
"""

import json
import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

HANG = "hang"  # answer only after the sender has given up
RESET = "reset"  # close the connection without answering
OK = 200


@dataclass
class Received:
    webhook_id: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    answered: Any
    at: float

    @property
    def payload(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


@dataclass
class Receiver:
    server: ThreadingHTTPServer
    secrets: list[str] = field(default_factory=list)
    script: list[Any] = field(default_factory=list)
    hang_seconds: float = 3.0
    slow_seconds: float = 0.0
    # While set, every request is held unanswered until the test releases the gate (bounded, so a
    # test that forgets cannot hang a thread forever): "in flight" for as long as the test needs.
    gate: threading.Event | None = None
    received: list[Received] = field(default_factory=list)
    extra_headers: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hooks"

    def port(self) -> int:
        return int(self.server.server_address[1])

    def verify(self, body: bytes, headers: dict[str, str]) -> bool:
        for secret in self.secrets:
            try:
                Webhook(secret).verify(body, headers)
                return True
            except WebhookVerificationError:
                continue
        return False

    def next_answer(self) -> Any:
        with self.lock:
            return self.script.pop(0) if self.script else OK

    def delivered(self) -> list[Received]:
        """Requests that were answered with a 2xx."""
        return [r for r in self.received if isinstance(r.answered, int) and 200 <= r.answered < 300]

    def of_type(self, event_type: str) -> list[Received]:
        return [r for r in self.delivered() if r.payload["type"] == event_type]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            answer = receiver.next_answer()
            verified = receiver.verify(body, headers)
            if not verified and isinstance(answer, int) and 200 <= answer < 300:
                answer = 400
            with receiver.lock:
                receiver.received.append(
                    Received(headers.get("webhook-id", ""), headers, body, verified, answer, time.monotonic())
                )
            if answer == RESET:
                # SO_LINGER 0 makes close() send a TCP reset instead of an orderly shutdown.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True
                return
            if answer == HANG:
                time.sleep(receiver.hang_seconds)
                answer = OK
            elif receiver.gate is not None:
                receiver.gate.wait(60)
            elif receiver.slow_seconds:
                time.sleep(receiver.slow_seconds)
            try:
                text = b"verified" if verified else b"signature did not verify"
                self.send_response(int(answer))
                for name, value in receiver.extra_headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)
            except OSError:
                pass  # the sender gave up waiting

    return Handler


def start_receiver(host: str = "127.0.0.1") -> Receiver:
    server = ThreadingHTTPServer((host, 0), BaseHTTPRequestHandler)
    server.daemon_threads = True
    receiver = Receiver(server)
    server.RequestHandlerClass = _handler(receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = start_receiver()
    yield started
    started.server.shutdown()
    started.server.server_close()
