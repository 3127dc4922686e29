"""`Client` and `AsyncClient`: the memories API over httpx, with retries (retries.py);
their `memories` (memories.py) build the calls.

Both send `calls.Call`s through `send`, one attempt after another as `_Attempts` decides;
they differ only in how they wait and do I/O. Logged to the `mnemo.client` logger:
each attempt (DEBUG: method, path, status, time) and each retry (INFO: why, and the
wait); never a header, so never the key.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from mnemo_client import retries
from mnemo_client.calls import Call
from mnemo_client.config import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT_S, resolve
from mnemo_client.errors import (
    APIConnectionError,
    APITimeoutError,
    MnemoClientError,
    retry_after,
    status_error,
)
from mnemo_client.memories import AsyncMemories, Memories
from mnemo_client.version import __version__

__all__ = ["AsyncClient", "Client"]

T = TypeVar("T")
log = logging.getLogger("mnemo.client")


class _Attempts:
    """The attempts of one call: what each sends, and after each failure whether to try
    again (and after how long) or to raise."""

    def __init__(self, call: Call[Any], max_retries: int) -> None:
        self.call = call
        self.max_retries = max_retries
        self.retries = 0
        self.sent = 0.0  # when the current attempt began (time.monotonic)
        # one key per call, the same on each of its attempts (docs/sdk.md)
        self.idempotency_key = str(uuid.uuid4()) if call.method == "POST" else None

    def start(self) -> dict[str, str]:
        """Begins an attempt; the headers of this call's attempts beyond the client's."""
        self.sent = time.monotonic()
        return {"Idempotency-Key": self.idempotency_key} if self.idempotency_key else {}

    def failed(self, error: httpx.TransportError) -> float:
        """The wait before the next attempt after `error`; raises if there is none."""
        what = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        if self.retries < self.max_retries and retries.retryable_error(self.call.method, error):
            wait = retries.delay(self.retries + 1, None)
            if wait is not None:
                return self._retry(what, wait)
        self._log_end(what)
        cls = APITimeoutError if isinstance(error, httpx.TimeoutException) else APIConnectionError
        message = f"{self.call.method} {self.call.path}: {what}"
        raise cls(message, request=_request_of(error)) from error

    def answered(self, response: httpx.Response) -> float | None:
        """None if `response` is the call's answer; else the wait before the next attempt,
        or raises the error it is."""
        log.debug(
            "%s %s -> %d in %.1f ms",
            self.call.method,
            self.call.path,
            response.status_code,
            (time.monotonic() - self.sent) * 1000,
        )
        if response.is_success:
            return None
        what = f"{response.status_code} {response.reason_phrase}"
        status = response.status_code
        if self.retries < self.max_retries and retries.retryable_status(self.call.method, status):
            wait = retries.delay(self.retries + 1, retry_after(response))
            if wait is not None:
                return self._retry(what, wait)
        self._log_end(what)
        raise status_error(response)

    def _retry(self, what: str, wait: float) -> float:
        self.retries += 1
        log.info(
            "%s %s failed (%s); retry %d of %d in %.2f s",
            self.call.method,
            self.call.path,
            what,
            self.retries,
            self.max_retries,
            wait,
        )
        return wait

    def _log_end(self, what: str) -> None:
        log.debug(
            "%s %s failed (%s) after %d attempt(s)",
            self.call.method,
            self.call.path,
            what,
            self.retries + 1,
        )


def _request_of(error: httpx.TransportError) -> httpx.Request | None:
    try:
        return error.request
    except RuntimeError:  # httpx raises it for an error made without its request
        return None


class _Base:
    """What both clients hold: where to connect, with which key, how patiently."""

    def __init__(
        self,
        base_url: str | None,
        api_key: str | None,
        timeout: float | httpx.Timeout | None,
        max_retries: int,
    ) -> None:
        self._target = resolve(base_url, api_key)
        if not isinstance(max_retries, int) or isinstance(max_retries, bool) or max_retries < 0:
            raise MnemoClientError(f"max_retries must be an integer ≥ 0, not {max_retries!r}")
        self.max_retries = max_retries
        self.timeout = httpx.Timeout(timeout)
        self._headers = {
            "Authorization": f"Bearer {self._target.api_key}",
            "Accept": "application/json",
            "User-Agent": f"mnemo-client/{__version__}",
        }

    @property
    def base_url(self) -> str:
        return self._target.base_url

    def __repr__(self) -> str:  # never the key
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    def _request(self, call: Call[Any], attempts: _Attempts) -> dict[str, Any]:
        """The arguments of httpx's `request` for one attempt of `call`."""
        headers = self._headers | attempts.start()
        request: dict[str, Any] = {
            "method": call.method,
            "url": self.base_url + call.path,
            "params": call.params or None,
            "headers": headers,
            "timeout": self.timeout,
        }
        if call.body is not None:
            # ASCII JSON: text that is not valid Unicode (a lone surrogate) goes escaped,
            # for the server to refuse with its 422, instead of failing to encode here
            request["content"] = json.dumps(call.body).encode("ascii")
            headers["Content-Type"] = "application/json"
        return request


class Client(_Base):
    """A client of mnemo's memories API (and Omi's, for the routes Omi has).

    `base_url` and `api_key` default to `MNEMO_BASE_URL` and `MNEMO_API_KEY`, else Omi's
    `OMI_API_BASE` and `OMI_API_KEY` (config.py). `timeout` is in seconds (or an
    `httpx.Timeout`), per attempt; `max_retries` counts the attempts after the first
    (retries.py says which calls are retried). `http_client` is used instead of a new
    `httpx.Client` (its base URL is not used; the client closes it when it is closed).
    Use it as a context manager, or call `close()`."""

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT_S,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.Client | None = None,
    ) -> None:
        super().__init__(base_url, api_key, timeout, max_retries)
        self._http = http_client if http_client is not None else httpx.Client()
        self.memories = Memories(self)

    def send(self, call: Call[T]) -> T:
        """Send `call`, retrying as retries.py says: its answer, or a MnemoClientError."""
        attempts = _Attempts(call, self.max_retries)
        while True:
            try:
                response = self._http.request(**self._request(call, attempts))
            except httpx.TransportError as error:
                wait = attempts.failed(error)
            else:
                answered = attempts.answered(response)
                if answered is None:
                    return call.parse(response)
                wait = answered
            time.sleep(wait)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class AsyncClient(_Base):
    """`Client` for asyncio: the same arguments (`http_client` an `httpx.AsyncClient`),
    the same methods, awaited; `async with`, or `await close()`."""

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT_S,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(base_url, api_key, timeout, max_retries)
        self._http = http_client if http_client is not None else httpx.AsyncClient()
        self.memories = AsyncMemories(self)

    async def send(self, call: Call[T]) -> T:
        """Send `call`, retrying as retries.py says: its answer, or a MnemoClientError."""
        attempts = _Attempts(call, self.max_retries)
        while True:
            try:
                response = await self._http.request(**self._request(call, attempts))
            except httpx.TransportError as error:
                wait = attempts.failed(error)
            else:
                answered = attempts.answered(response)
                if answered is None:
                    return call.parse(response)
                wait = answered
            await asyncio.sleep(wait)

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
