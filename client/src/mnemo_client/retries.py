"""When a call is tried again, and after how long: the one policy of both clients.

Retried, up to `max_retries` times after the first attempt, every call (GET, PATCH,
DELETE and POST alike):
- when the connection could not be made (`httpx.ConnectError`, `httpx.ConnectTimeout`):
  the request was never sent;
- on 429: the server refused it and did nothing (docs/api.md, Rate limits);
- when the connection broke or timed out after the request was sent, and on 408 and
  5xx: GET, PATCH and DELETE may be repeated without a second effect, and a POST carries
  an `Idempotency-Key` (one per call, the same on every attempt, with the same body
  bytes), which mnemo answers with the first answer instead of storing again
  (docs/api.md, Idempotency).

Never retried: any other 4xx.

The wait before retry n (1, 2, ...) is the server's `Retry-After` when it sent one, else
`min(INITIAL_DELAY_S * 2**(n-1), MAX_DELAY_S)` scaled by a random factor in [0.5, 1]
(jitter, so that many clients do not retry in step). A `Retry-After` longer than
`MAX_RETRY_AFTER_S` is not waited for: the error is raised at once, carrying it
(`RateLimitError.retry_after`), for the caller to decide.
"""

from __future__ import annotations

import random

import httpx

INITIAL_DELAY_S = 0.5
MAX_DELAY_S = 8.0
MAX_RETRY_AFTER_S = 60.0
# Methods safe to send twice (POST: by its Idempotency-Key).
REPEATABLE = frozenset({"GET", "PATCH", "DELETE", "POST"})


def retryable_error(method: str, error: httpx.TransportError) -> bool:
    """Whether a call that failed with `error` (no answer) may be tried again."""
    if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout):
        return True  # never sent
    return method in REPEATABLE


def retryable_status(method: str, status: int) -> bool:
    """Whether a call answered `status` may be tried again."""
    if status == 429:
        return True
    return method in REPEATABLE and (status == 408 or status >= 500)


def delay(retry: int, retry_after: float | None) -> float | None:
    """Seconds to wait before retry number `retry` (1 for the first), or None when the
    server asks for a wait longer than MAX_RETRY_AFTER_S."""
    if retry_after is not None:
        return retry_after if retry_after <= MAX_RETRY_AFTER_S else None
    return min(INITIAL_DELAY_S * 2.0 ** (retry - 1), MAX_DELAY_S) * random.uniform(0.5, 1.0)
