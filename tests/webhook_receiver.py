"""A real local HTTP server that receives webhooks and verifies each signature with the
standardwebhooks library (what a receiver would use), for the webhook tests."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    payload: Any  # the verified JSON, or None if the signature did not verify

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]


class Receiver:
    """Answers every POST with `status(request_number)` (200 by default) after `delay_s`;
    records each request with its verification against `secret` (set once known).

    A request whose body ends before its Content-Length (the sender was killed while
    sending it) is no delivery: a web framework would refuse it, so it is counted in
    `cut`, never in `received`."""

    def __init__(self) -> None:
        self.secret: str | None = None
        self.status: Callable[[int], int] = lambda n: 200
        self.delay_s = 0.0
        self.received: list[Received] = []
        self.cut = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                if len(body) < length:
                    with receiver._lock:
                        receiver.cut += 1
                    return
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver._record(headers, body)
                with receiver._lock:
                    n = len(receiver.received)
                if receiver.delay_s:
                    time.sleep(receiver.delay_s)
                code = receiver.status(n)
                try:
                    self.send_response(code)
                    if 300 <= code < 400:
                        self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender is gone (killed, or gave up at its timeout)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def _record(self, headers: dict[str, str], body: bytes) -> None:
        payload = None
        if self.secret is not None:
            try:
                payload = Webhook(self.secret).verify(body, headers)
            except WebhookVerificationError:
                payload = None
        with self._lock:
            self.received.append(Received(headers, body, payload))

    def verified(self) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.payload is not None]

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def body_texts(received: list[Received]) -> bytes:
    return b"\n".join(r.body for r in received) + json.dumps([r.headers for r in received]).encode()
