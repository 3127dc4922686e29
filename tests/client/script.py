"""A transport that answers from a script: each request gets the next entry (a response
or a transport error to raise), and is recorded with the time it came."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from mnemo.api.examples import MEMORY  # a real answer of mnemo
from mnemo_client import AsyncClient, Client

__all__ = ["KEY", "MEMORY", "Script", "fail", "ok"]

KEY = "omi_dev_" + "ab" * 16

Entry = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def ok(body: Any = MEMORY, **headers: str) -> httpx.Response:
    return httpx.Response(200, json=body, headers=headers)


def fail(status: int, detail: Any = "no", **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"detail": detail}, headers=headers)


@dataclass
class Script:
    entries: list[Entry]
    requests: list[httpx.Request] = field(default_factory=list)
    times: list[float] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.times.append(time.monotonic())
        if not self.entries:
            raise AssertionError(f"unscripted request {request.method} {request.url}")
        entry = self.entries.pop(0)
        if isinstance(entry, Exception):
            raise entry
        if callable(entry) and not isinstance(entry, httpx.Response):
            return entry(request)
        return entry

    def client(self, **options: Any) -> Client:
        http = httpx.Client(transport=httpx.MockTransport(self))
        return Client(base_url="http://mnemo.test", api_key=KEY, http_client=http, **options)

    def async_client(self, **options: Any) -> AsyncClient:
        async def handler(request: httpx.Request) -> httpx.Response:
            return self(request)

        http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        return AsyncClient(base_url="http://mnemo.test", api_key=KEY, http_client=http, **options)
