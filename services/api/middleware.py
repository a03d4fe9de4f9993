from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.api.problems import PROBLEM_MEDIA_TYPE


class RejectNulBytes:
    """Refuse NUL bytes in the path or query: PostgreSQL text cannot hold them, so no id or filter
    containing one can ever match, and letting them through would turn a bad request into a 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw = scope.get("raw_path") or scope["path"].encode()
            if b"\x00" in unquote_to_bytes(raw) or b"\x00" in unquote_to_bytes(
                scope.get("query_string", b"")
            ):
                body = (
                    b'{"type":"about:blank","title":"Bad Request","status":400,'
                    b'"detail":"The URL contains a NUL byte (%00); remove it."}'
                )
                await send(
                    {
                        "type": "http.response.start",
                        "status": 400,
                        "headers": [(b"content-type", PROBLEM_MEDIA_TYPE.encode())],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


# One policy for the page and the API alike: nothing but the app's own files may run or load, no
# inline script or style (so text that slips into the DOM cannot execute), no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)


class SecurityHeaders:
    """Add the security headers to every HTTP response, errors included.

    A response that brings its own Content-Security-Policy (the OpenAPI page, whose inline
    script is allowed by its hash) keeps it; every other one gets CONTENT_SECURITY_POLICY.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in _DEFAULTS if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


_DEFAULTS = ((b"content-security-policy", CONTENT_SECURITY_POLICY.encode()), *SECURITY_HEADERS)
