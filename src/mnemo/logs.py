"""Log lines: one format for mnemo's records and the HTTP server's, and the request id.

Every line is

    2026-12-02T06:28:25.123Z INFO [3f2a9c0e5b7d4e1f] uvicorn.access: 127.0.0.1:5555 - "GET …

a UTC time (RFC 3339, milliseconds), the level, the request id in brackets (`-` for a
line no request caused: start-up, shutdown, the background embedder), the logger's
name and the message. The message is one line: control characters a client could send
(a newline in a path) are escaped as `\\n`, `\\x1b`...; a traceback follows on its own
lines. Whatever the line holds, a URL's password (`mask_urls_in`) and anything shaped
like an API key are masked before it is written: `redact`.

`configure` installs this on the root logger, with the configured level, so it covers
every library that logs (the server's loggers propagate to it); it knows nothing of the
server. `RequestId` is the ASGI middleware that gives each request its id, puts it in
`request_id` for the log lines the request causes, and returns it in `X-Request-ID`.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import secrets
import sys
import time
from contextvars import ContextVar
from typing import TextIO

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mnemo.auth import KEY_PREFIX
from mnemo.urls import mask_urls_in

HEADER = "X-Request-ID"
_HEADER_NAME = HEADER.lower().encode("latin-1")
NO_REQUEST = "-"
request_id: ContextVar[str] = ContextVar("mnemo_request_id", default=NO_REQUEST)

# A request id sent by the client is kept if it is 1-64 of these characters (a UUID,
# a proxy's hex id) and does not hold a key; otherwise the server makes one.
_CLIENT_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")
_KEY = re.compile(rf"(?i){KEY_PREFIX}[0-9a-z]*")
_KEY_BYTES = re.compile(rf"(?i){KEY_PREFIX}".encode())
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"


def redact(text: str) -> str:
    """`text` with every URL's password masked and every key-shaped token replaced."""
    return _KEY.sub(f"{KEY_PREFIX}***", mask_urls_in(text))


def _escape(text: str) -> str:
    return _CONTROL.sub(lambda m: repr(m.group(0))[1:-1], text)


class LineFormatter(logging.Formatter):
    """The format above: UTC time, level, request id, logger, escaped message; redacted."""

    def __init__(self) -> None:
        super().__init__(_FORMAT)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return f"{stamp}.{int(record.msecs):03d}Z"

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802
        record.message = _escape(record.message)
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return super().formatMessage(record)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def configure(level: str, stream: TextIO | None = None) -> None:
    """Write log records to `stream` (stderr) as above: mnemo's from `level` up, other
    libraries' from `warning` up (or `level`, if higher). The server sets its own
    loggers' levels; they propagate here."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(LineFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    chosen = logging.getLevelNamesMapping()[level.upper()]
    root.setLevel(max(chosen, logging.WARNING))
    logging.getLogger("mnemo").setLevel(chosen)
    # The admin API's audit trail (mnemo.api.admin_route) is written at any level.
    logging.getLogger("mnemo.audit").setLevel(min(chosen, logging.INFO))


# 8 random hex digits for this process, then a counter: unique across processes and
# restarts without a system call per request (an id is a label, not a secret).
_PROCESS = secrets.token_hex(4)
_COUNTER = itertools.count()


def _new_process() -> None:
    global _PROCESS, _COUNTER
    _PROCESS, _COUNTER = secrets.token_hex(4), itertools.count()


if hasattr(os, "register_at_fork"):  # a forked worker gets a prefix of its own
    os.register_at_fork(after_in_child=_new_process)


def _new_id() -> str:
    return f"{_PROCESS}{next(_COUNTER) & 0xFFFFFFFF:08x}"


def _from_client(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == _HEADER_NAME:
            if _CLIENT_ID.fullmatch(value) and not _KEY_BYTES.search(value):
                return str(value, "ascii")
            return None
    return None


class RequestId:
    """ASGI middleware, outside every other layer: the request's id (the client's
    well-formed `X-Request-ID`, else 16 hex digits: `_new_id`) in `request_id` while the
    request is answered, and in the `X-Request-ID` header of every answer."""

    def __init__(self, app: ASGIApp, access_log: bool = False) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        value = _from_client(scope) or _new_id()
        header = (_HEADER_NAME, value.encode("ascii"))
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), header]}
            await send(message)

        token = request_id.set(value)
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if self.access_log:
                _access(scope, status, time.perf_counter() - started)
            request_id.reset(token)


_ACCESS = logging.getLogger("mnemo.access")


def _access(scope: Scope, status: int, seconds: float) -> None:
    """The access line of a request (`MNEMO_ACCESS_LOG`): client, request line, status
    (0: no answer was sent) and time taken; written in the request's context, so it
    carries its id."""
    client = scope.get("client")
    where = f"{client[0]}:{client[1]}" if client else "-"
    query = scope.get("query_string", b"")
    target = scope["path"] + ("?" + query.decode("latin-1") if query else "")
    version = scope.get("http_version", "1.1")
    _ACCESS.info(
        '%s - "%s %s HTTP/%s" %d %.1fms',
        where,
        scope["method"],
        target,
        version,
        status,
        seconds * 1000,
    )
