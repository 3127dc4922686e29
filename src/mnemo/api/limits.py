"""Request body size and time limits, and the rate-limit headers of every limited
response."""

from __future__ import annotations

import asyncio

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class RequestSizeLimits:
    """431 for headers over `max_header_bytes` in all; 413 for a body over `max_bytes`:
    at once if `Content-Length` says so, or as soon as the streamed body passes the
    limit (the rest is never read), with `Connection: close`; 408, with it too, for a
    body not received whole within `body_timeout_s` of the app's first read of it (a
    client that sends less than its `Content-Length`, or trickles it). The HTTP server
    times out request heads itself (mnemo.serve); it has no timeout for bodies, hence
    this one.
    `larger`: paths whose bodies have a limit of their own (the admin API's import)."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        max_header_bytes: int,
        body_timeout_s: float,
        larger: dict[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_header_bytes = max_header_bytes
        self.body_timeout_s = body_timeout_s
        self.larger = larger or {}
        self.header_detail = f"Request headers too large: the limit is {max_header_bytes} bytes"
        self.timeout_detail = f"Request body not received within {body_timeout_s:g} s"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header_bytes = sum(len(name) + len(value) for name, value in scope["headers"])
        if header_bytes > self.max_header_bytes:
            response = JSONResponse({"detail": self.header_detail}, status_code=431)
            await response(scope, receive, send)
            return
        max_bytes = self.larger.get(scope["path"], self.max_bytes)
        too_large = {"detail": f"Request body too large: the limit is {max_bytes} bytes"}
        declared = _content_length(scope)
        if declared is not None and declared > max_bytes:
            answer = JSONResponse(too_large, status_code=413, headers=_CLOSE)
            await answer(scope, receive, send)
            return
        received = 0
        deadline: float | None = None

        async def limited() -> Message:
            nonlocal received, deadline
            if deadline is None:
                deadline = asyncio.get_running_loop().time() + self.body_timeout_s
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise HTTPException(408, self.timeout_detail, headers=_CLOSE) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise HTTPException(413, too_large["detail"], headers=_CLOSE)
            return message

        await self.app(scope, limited, send)


# The rest of the body is never read, so the connection cannot carry another request:
# said to the client, which then does not send one on it (RFC 9112, 9.6).
_CLOSE = {"Connection": "close"}


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class RateLimitHeaders:
    """Adds `X-RateLimit-*` (and `Retry-After` on a 429) to every response whose
    request was counted by the rate limiter (`request.state.rate_limit`), errors too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})

        async def send_with_headers(message: Message) -> None:
            decision = state.get("rate_limit")
            if message["type"] == "http.response.start" and decision is not None:
                headers = MutableHeaders(scope=message)
                for name, value in decision.headers().items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
