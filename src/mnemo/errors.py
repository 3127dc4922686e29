"""The project's own errors; each carries the HTTP status it becomes.

    MnemoError (500)
    ├── BadRequest (400)            e.g. an unknown category in a list filter
    ├── Unauthorized (401)          missing header, unknown or revoked key
    ├── Forbidden (403)             key lacks the scope
    ├── NotFound (404)              unknown id, or another user's id
    ├── Unprocessable (422)         a rule of the contract, not a schema error
    ├── Conflict (409)              e.g. a user name that already exists
    ├── RateLimited (429)           too many requests for the key (or failed logins)
    ├── RateLimiterBusy (503)       Redis, which holds the shared limits, is too slow now
    ├── Backlogged (429)            too much of this user's work is queued (admission.py)
    ├── Saturated (503)             too much of everyone's work is queued (admission.py)
    └── StoreError (500)            the database failed in a way we did not expect
        └── StoreUnavailable (503)  the database cannot be reached or written now

One exception handler (in `mnemo.app`) turns each into `{"detail": ...}`.
Nothing above `mnemo.store` sees a driver exception: stores raise these.
"""

from __future__ import annotations


class MnemoError(Exception):
    status_code = 500
    default_detail = "Internal Server Error"
    # The limit that refused the request (a rate-limit policy, a queue bound), for the
    # metrics' `mnemo_rejections_total{limit}`; None: not a refusal.
    limit: str | None = None

    def __init__(self, detail: str | None = None, headers: dict[str, str] | None = None) -> None:
        self.detail = detail if detail is not None else self.default_detail
        self.headers = headers or {}
        super().__init__(self.detail)


class BadRequest(MnemoError):
    status_code = 400
    default_detail = "Bad Request"


class Unauthorized(MnemoError):
    status_code = 401
    default_detail = "Invalid API Key"


class Forbidden(MnemoError):
    status_code = 403
    default_detail = "Forbidden"


class NotFound(MnemoError):
    status_code = 404
    default_detail = "Memory not found"


class Conflict(MnemoError):
    status_code = 409
    default_detail = "Conflict"


class RateLimited(MnemoError):
    status_code = 429

    def __init__(self, policy: str, retry_after_s: int, headers: dict[str, str]) -> None:
        """`policy`: the rate-limit policy over its limit (mnemo.ratelimit)."""
        super().__init__(f"Rate limit exceeded. Try again in {retry_after_s}s.", headers)
        self.limit = policy


class RateLimiterBusy(MnemoError):
    """No rate-limit decision in time (Redis slow, not down): refused, not guessed."""

    status_code = 503
    default_detail = "Rate limiter busy, try again shortly"
    limit = "rate_limiter_busy"

    def __init__(self) -> None:
        super().__init__(None, {"Retry-After": "1"})


class _Refused(MnemoError):
    """Work refused, not queued, because a queue is full (mnemo.admission)."""

    words = ""

    def __init__(self, what: str, retry_after_s: int, limit: str) -> None:
        """`limit`: the queue bound reached (mnemo.admission)."""
        words = self.words.format(what=what, seconds=retry_after_s)
        super().__init__(words, {"Retry-After": str(retry_after_s)})
        self.limit = limit


class Backlogged(_Refused):
    """This user's share of a queue is full."""

    status_code = 429
    words = "Too many of this user's {what} are queued. Try again in {seconds}s."


class Saturated(_Refused):
    """A queue is full for everyone."""

    status_code = 503
    words = "Server busy: too many {what} are queued. Try again in {seconds}s."


class Unprocessable(MnemoError):
    status_code = 422
    default_detail = "Unprocessable Entity"


class StoreError(MnemoError):
    status_code = 500


class StoreUnavailable(StoreError):
    status_code = 503
    default_detail = "Database unavailable, try again shortly"
