from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Receive, Scope, Send

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
