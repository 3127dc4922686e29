"""Per-key rate limits in fixed windows, counted in this process or in Redis.

Policies: `reads` (GET), `writes` (create, update, delete), `batches` (batch create)
count requests per API key; `characters` counts what a request costs, the characters
of memory content it sends to be embedded (create, batch, a PATCH of `content`), per
key; `auth_failures` counts failed authentications per client address (so keys cannot
be guessed at speed).

Every decision is one atomic step that checks and counts together (`Counter.take`):
an amount is spent only if it fits within the limit, so concurrent requests can never
pass a limit between a check and a count. In this process that step has no `await`
inside; with Redis it is one Lua script, shared by every worker and machine.

Redis that is busy is not Redis that is down. Requests queue for one of
`redis_max_connections` connections; a request that waits longer than `redis_timeout_s`
for a connection, or whose answer takes longer, is refused with 503 (`RateLimiterBusy`)
and the limits stay exact. Redis is *down* when a connection fails (refused, reset, any
error other than a timeout) or after `DOWN_AFTER_TIMEOUTS` timeouts in a row: then this
process counts on its own (logged) and one request a second tries Redis again; sharing
resumes with the first answer.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass
from typing import Any, Protocol

from mnemo.errors import RateLimiterBusy

log = logging.getLogger(__name__)

READS, WRITES, BATCHES, CHARACTERS, AUTH_FAILURES = (
    "reads",
    "writes",
    "batches",
    "characters",
    "auth_failures",
)
DOWN_AFTER_TIMEOUTS = 3  # Redis timeouts in a row that mean it is down, not busy


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
    async def take(self, key: str, window_s: int, cost: int, limit: int) -> tuple[int, bool, float]:
        """Spend `cost` (> 0) in this window if the total stays within `limit`, in one
        atomic step; (the total after, whether it was spent, seconds until the window
        resets). A `cost` of 0 only reads the total."""

    async def aclose(self) -> None: ...


def _window(window_s: int, now: float) -> tuple[int, float]:
    index = int(now // window_s)
    return index, (index + 1) * window_s - now


class LocalCounter:
    """Counters of this process only (each worker counts on its own)."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, int]] = {}  # key -> (window index, count)

    async def take(self, key: str, window_s: int, cost: int, limit: int) -> tuple[int, bool, float]:
        return self.take_now(key, window_s, cost, limit)

    def take_now(self, key: str, window_s: int, cost: int, limit: int) -> tuple[int, bool, float]:
        # No await in here: in one event loop the check and the count are one step.
        index, reset = _window(window_s, time.time())
        seen_index, count = self._counts.get(key, (index, 0))
        if seen_index != index:
            count = 0
        taken = cost > 0 and count + cost <= limit
        if taken:
            count += cost
            if len(self._counts) > 100_000:  # forget finished windows now and then
                self._counts = {k: v for k, v in self._counts.items() if v[0] == index}
            self._counts[key] = (index, count)
        return count, taken, reset

    async def aclose(self) -> None:
        self._counts.clear()


# KEYS[1] = counter key; ARGV = window seconds, cost, limit. Returns {total, 1 if spent}.
_TAKE_SCRIPT = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
local cost = tonumber(ARGV[2])
if cost > 0 and count + cost <= tonumber(ARGV[3]) then
  count = redis.call('INCRBY', KEYS[1], cost)
  if count == cost then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
  return {count, 1}
end
return {count, 0}
"""


class RedisCounter:
    """Counters shared through Redis; a `LocalCounter` while Redis is down (see module)."""

    def __init__(
        self,
        url: str,
        *,
        max_connections: int = 32,
        timeout_s: float = 2.0,
        retry_after_s: float = 1.0,
    ) -> None:
        import redis.asyncio as redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff
        from redis.exceptions import ConnectionError as RedisConnectionError

        # Requests queue here, so the pool below can never run out of connections;
        # the pool still blocks rather than raise, should it ever be asked for more.
        self._slots = asyncio.Semaphore(max_connections)
        self._timeout_s = timeout_s
        pool = redis.BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=timeout_s,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            # one immediate retry on a broken connection (Redis restarted: the pooled
            # connection is stale); never on a timeout, which would only double the wait
            retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
            decode_responses=True,
        )
        self._redis = redis.Redis(connection_pool=pool)
        self._script = self._redis.register_script(_TAKE_SCRIPT)
        self._fallback = LocalCounter()
        self._retry_after_s = retry_after_s
        self._down_until = 0.0  # while down: when to try Redis again
        self._probing = False  # a request is trying Redis again
        self._timeouts = 0  # timeouts in a row

    async def take(self, key: str, window_s: int, cost: int, limit: int) -> tuple[int, bool, float]:
        now = time.time()
        if not self._down_until:
            return await self._take_shared(key, window_s, cost, limit)
        if now < self._down_until or self._probing:
            return self._fallback.take_now(key, window_s, cost, limit)
        self._probing = True
        try:
            return await self._take_shared(key, window_s, cost, limit)
        finally:
            self._probing = False

    async def _take_shared(
        self, key: str, window_s: int, cost: int, limit: int
    ) -> tuple[int, bool, float]:
        from redis.exceptions import RedisError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        try:
            async with asyncio.timeout(self._timeout_s):
                await self._slots.acquire()
        except TimeoutError:
            raise RateLimiterBusy() from None
        index, reset = _window(window_s, time.time())  # after the wait: its window
        try:
            count, taken = await self._script(
                keys=[f"mnemo:rl:{key}:{index}"], args=[window_s, cost, limit]
            )
        except (RedisTimeoutError, TimeoutError) as error:
            self._timeouts += 1
            if self._timeouts < DOWN_AFTER_TIMEOUTS and not self._down_until:
                raise RateLimiterBusy() from None
            self._went_down(error)
        except (RedisError, OSError) as error:
            self._went_down(error)
        else:
            self._timeouts = 0
            if self._down_until:
                log.warning("redis is back: rate limits are shared again")
                self._down_until = 0.0
            return int(count), bool(taken), reset
        finally:
            self._slots.release()
        return self._fallback.take_now(key, window_s, cost, limit)

    def _went_down(self, error: BaseException) -> None:
        now = time.time()
        if not self._down_until:
            log.warning("redis is down, rate limits are counted by this process: %r", error)
        self._down_until = now + self._retry_after_s

    async def aclose(self) -> None:
        await self._redis.aclose()


class RateLimiter:
    """Decides whether a subject (a key id or a client address) may go on."""

    def __init__(self, policies: dict[str, Policy], counter: Counter) -> None:
        self.policies = policies
        self.counter = counter

    async def take(self, policy: str, subject: str, cost: int = 1) -> Decision:
        """Spend `cost` (a request, or what it costs) if it fits within the limit, in one
        atomic step; a request that does not fit spends nothing and is refused."""
        rule = self.policies[policy]
        count, taken, reset = await self.counter.take(
            f"{policy}:{subject}", rule.window_s, cost, rule.limit
        )
        return self._decide(rule, count, reset, allowed=taken)

    async def check(self, policy: str, subject: str) -> Decision:
        """Whether one more would still be within the limit, spending nothing."""
        rule = self.policies[policy]
        count, _, reset = await self.counter.take(f"{policy}:{subject}", rule.window_s, 0, 0)
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
    # Generous enough for a household or team of assistants, tight enough for abuse:
    # 100,000 characters a minute is 200 full-length memories (8 full batches), about
    # 16 s of embedding CPU a minute.
    "self-hosted": {
        READS: Policy(6000, 60),
        WRITES: Policy(3000, 60),
        BATCHES: Policy(600, 60),
        CHARACTERS: Policy(100_000, 60),
    },
    # Omi's hosted limits, fixed windows of an hour; the character budget is above what
    # 120 writes and 15 batches can send (247,500), so it never refuses an Omi client.
    "omi": {
        READS: Policy(120, 3600),
        WRITES: Policy(120, 3600),
        BATCHES: Policy(15, 3600),
        CHARACTERS: Policy(250_000, 3600),
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
        CHARACTERS: settings.rate_limit_characters,
    }
    for name, limit in overrides.items():
        window = settings.rate_limit_window_s or policies[name].window_s
        policies[name] = Policy(limit or policies[name].limit, window)
    policies[AUTH_FAILURES] = Policy(settings.auth_failure_limit, settings.auth_failure_window_s)
    counter: Counter = (
        RedisCounter(
            settings.redis_url,
            max_connections=settings.redis_max_connections,
            timeout_s=settings.redis_timeout_s,
        )
        if settings.redis_url
        else LocalCounter()
    )
    return RateLimiter(policies, counter)
