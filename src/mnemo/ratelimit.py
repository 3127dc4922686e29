"""Per-key rate limits in fixed windows, counted in this process or in Redis.

Policies: `reads` (GET), `writes` (create, update, delete), `batches` (batch create),
each per API key, and `auth_failures` per client address (so keys cannot be guessed
at speed). With Redis every worker and machine shares the counters (one atomic
INCR+EXPIRE script per request); if Redis stops answering, this process counts on its
own until it is back (logged, and Redis is retried at most once a second), so
requests keep succeeding.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger(__name__)

READS, WRITES, BATCHES, AUTH_FAILURES = "reads", "writes", "batches", "auth_failures"


@dataclass(frozen=True)
class Policy:
    limit: int
    window_s: int


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_s: int  # whole seconds until the window ends (at least 1)

    def headers(self) -> dict[str, str]:
        values = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_s),
        }
        if not self.allowed:
            values["Retry-After"] = str(self.reset_s)
        return values


class Counter(Protocol):
    async def hit(self, key: str, window_s: int) -> tuple[int, float]:
        """Count one event in the window; (events so far, seconds until it resets)."""

    async def peek(self, key: str, window_s: int) -> tuple[int, float]:
        """The same without counting."""

    async def aclose(self) -> None: ...


def _window(window_s: int, now: float) -> tuple[int, float]:
    index = int(now // window_s)
    return index, (index + 1) * window_s - now


class LocalCounter:
    """Counters of this process only (each worker counts on its own)."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, int]] = {}  # key -> (window index, count)

    async def hit(self, key: str, window_s: int) -> tuple[int, float]:
        return self._count(key, window_s, 1)

    async def peek(self, key: str, window_s: int) -> tuple[int, float]:
        return self._count(key, window_s, 0)

    def _count(self, key: str, window_s: int, add: int) -> tuple[int, float]:
        index, reset = _window(window_s, time.time())
        seen_index, count = self._counts.get(key, (index, 0))
        count = (count if seen_index == index else 0) + add
        if add:
            if len(self._counts) > 100_000:  # forget finished windows now and then
                self._counts = {k: v for k, v in self._counts.items() if v[0] == index}
            self._counts[key] = (index, count)
        return count, reset

    async def aclose(self) -> None:
        self._counts.clear()


# KEYS[1] = counter key; ARGV[1] = window seconds; ARGV[2] = 1 to count, 0 to peek.
_HIT_SCRIPT = """
local count
if ARGV[2] == '1' then
  count = redis.call('INCR', KEYS[1])
  if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
else
  count = tonumber(redis.call('GET', KEYS[1]) or '0')
end
return count
"""


class RedisCounter:
    """Counters shared through Redis; falls back to a `LocalCounter` while it is away."""

    def __init__(self, url: str, *, retry_after_s: float = 1.0) -> None:
        import redis.asyncio as redis

        self._redis = redis.Redis.from_url(
            url, socket_timeout=0.25, socket_connect_timeout=0.25, decode_responses=True
        )
        self._script = self._redis.register_script(_HIT_SCRIPT)
        self._fallback = LocalCounter()
        self._retry_after_s = retry_after_s
        self._down_until = 0.0

    async def hit(self, key: str, window_s: int) -> tuple[int, float]:
        return await self._count(key, window_s, True)

    async def peek(self, key: str, window_s: int) -> tuple[int, float]:
        return await self._count(key, window_s, False)

    async def _count(self, key: str, window_s: int, add: bool) -> tuple[int, float]:
        from redis.exceptions import RedisError

        now = time.time()
        if now >= self._down_until:
            index, reset = _window(window_s, now)
            try:
                count = await self._script(
                    keys=[f"mnemo:rl:{key}:{index}"], args=[window_s, int(add)]
                )
            except (RedisError, OSError) as error:
                if self._down_until == 0.0 or now - self._down_until > 60:
                    log.warning("redis unavailable for rate limits, counting locally: %r", error)
                self._down_until = now + self._retry_after_s
            else:
                if self._down_until:
                    log.warning("redis is back: rate limits are shared again")
                    self._down_until = 0.0
                return int(count), reset
        counter = self._fallback
        return await (counter.hit(key, window_s) if add else counter.peek(key, window_s))

    async def aclose(self) -> None:
        await self._redis.aclose()


class RateLimiter:
    """Decides whether a subject (a key id or a client address) may go on."""

    def __init__(self, policies: dict[str, Policy], counter: Counter) -> None:
        self.policies = policies
        self.counter = counter

    async def hit(self, policy: str, subject: str) -> Decision:
        """Count a request; it is allowed while the count is within the limit."""
        rule = self.policies[policy]
        count, reset = await self.counter.hit(f"{policy}:{subject}", rule.window_s)
        return self._decide(rule, count, reset, allowed=count <= rule.limit)

    async def check(self, policy: str, subject: str) -> Decision:
        """Whether another event would still be within the limit, without counting."""
        rule = self.policies[policy]
        count, reset = await self.counter.peek(f"{policy}:{subject}", rule.window_s)
        return self._decide(rule, count, reset, allowed=count < rule.limit)

    @staticmethod
    def _decide(rule: Policy, count: int, reset: float, *, allowed: bool) -> Decision:
        return Decision(
            allowed=allowed,
            limit=rule.limit,
            remaining=max(rule.limit - count, 0),
            reset_s=max(math.ceil(reset), 1),
        )

    async def aclose(self) -> None:
        await self.counter.aclose()


PRESETS: dict[str, dict[str, Policy]] = {
    # Generous enough for a household or team of assistants, tight enough for abuse.
    "self-hosted": {
        READS: Policy(6000, 60),
        WRITES: Policy(3000, 60),
        BATCHES: Policy(600, 60),
    },
    # Omi's hosted limits, fixed windows of an hour.
    "omi": {
        READS: Policy(120, 3600),
        WRITES: Policy(120, 3600),
        BATCHES: Policy(15, 3600),
    },
}


def limiter_from_settings(settings: Any) -> RateLimiter | None:
    """The limiter `settings` ask for, or None when limiting is off."""
    if not settings.rate_limit_enabled:
        return None
    policies = dict(PRESETS[settings.rate_limit_preset])
    overrides = {
        READS: settings.rate_limit_reads,
        WRITES: settings.rate_limit_writes,
        BATCHES: settings.rate_limit_batches,
    }
    for name, limit in overrides.items():
        window = settings.rate_limit_window_s or policies[name].window_s
        policies[name] = Policy(limit or policies[name].limit, window)
    policies[AUTH_FAILURES] = Policy(settings.auth_failure_limit, settings.auth_failure_window_s)
    counter: Counter = RedisCounter(settings.redis_url) if settings.redis_url else LocalCounter()
    return RateLimiter(policies, counter)
