"""The client's errors: one class per family of answers, each carrying what the server said.

    MnemoClientError                 anything this client raises (also a bad setting)
    ├── APIConnectionError           no answer: the server could not be reached, or the
    │   │                            connection broke before the answer was read
    │   └── APITimeoutError          no answer within the timeout
    ├── APIResponseValidationError   an answer that is not what the API documents
    │                                (not JSON, or not the schema of the route)
    └── APIStatusError               an error status, with `status_code` and `detail`
        ├── BadRequestError              400 (e.g. an unknown category in a filter)
        ├── AuthenticationError          401 (no key, an unknown or revoked one)
        ├── PermissionDeniedError        403 (the key lacks the scope)
        ├── NotFoundError                404 (no memory of this user has that id)
        ├── UnprocessableEntityError     422 (the request breaks a rule; `issues`)
        ├── RateLimitError               429 (`retry_after`, seconds, if the server said)
        └── InternalServerError          5xx

Other statuses (405, 408, 413, 431, ...) raise `APIStatusError` itself. No message holds
the API key: it is in no URL, and headers are never quoted.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from mnemo_client.models import ValidationIssue

__all__ = [
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "InternalServerError",
    "MnemoClientError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "UnprocessableEntityError",
]


class MnemoClientError(Exception):
    """Every error the client raises."""


class APIConnectionError(MnemoClientError):
    """No answer came: the server could not be reached, or the connection broke."""

    def __init__(self, message: str, *, request: httpx.Request | None = None) -> None:
        super().__init__(message)
        self.request = request


class APITimeoutError(APIConnectionError):
    """No answer within the client's timeout."""


class APIResponseValidationError(MnemoClientError):
    """The server answered something the API does not document (bad JSON, wrong shape)."""

    def __init__(self, message: str, *, response: httpx.Response) -> None:
        super().__init__(message)
        self.response = response
        self.status_code = response.status_code


class APIStatusError(MnemoClientError):
    """An error status. `detail` is the server's `detail` (a string, or for a 422 of
    request validation FastAPI's list of issues); without a JSON `detail`, the reason
    phrase of the status."""

    def __init__(self, response: httpx.Response, detail: str | list[Any]) -> None:
        self.response = response
        self.status_code = response.status_code
        self.detail = detail
        super().__init__(f"{response.status_code} {_describe(detail)}")


class BadRequestError(APIStatusError):
    pass


class AuthenticationError(APIStatusError):
    pass


class PermissionDeniedError(APIStatusError):
    pass


class NotFoundError(APIStatusError):
    pass


class UnprocessableEntityError(APIStatusError):
    @property
    def issues(self) -> list[ValidationIssue]:
        """FastAPI's validation issues (empty when `detail` is one sentence)."""
        if not isinstance(self.detail, list):
            return []
        return [ValidationIssue.model_validate(item) for item in self.detail]


class RateLimitError(APIStatusError):
    def __init__(self, response: httpx.Response, detail: str | list[Any]) -> None:
        super().__init__(response, detail)
        self.retry_after: float | None = retry_after(response)


class InternalServerError(APIStatusError):
    pass


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error(response: httpx.Response) -> APIStatusError:
    """The error of an answer with an error status (read already)."""
    cls = _BY_STATUS.get(response.status_code)
    if cls is None:
        cls = InternalServerError if response.status_code >= 500 else APIStatusError
    return cls(response, _detail(response))


def _detail(response: httpx.Response) -> str | list[Any]:
    try:
        body = response.json()
    except ValueError:  # not JSON (a proxy's HTML page, say): the status's own words
        return response.reason_phrase
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, str | list):
        return detail
    return response.reason_phrase


def _describe(detail: str | list[Any]) -> str:
    if isinstance(detail, str):
        return detail
    parts = []
    for issue in detail:
        if isinstance(issue, dict):
            where = ".".join(str(part) for part in issue.get("loc") or [])
            parts.append(f"{where}: {issue.get('msg')}" if where else str(issue.get("msg")))
        else:
            parts.append(str(issue))
    return "; ".join(parts)


def retry_after(response: httpx.Response) -> float | None:
    """The answer's `Retry-After` in seconds (a number, or an HTTP date), if it has one."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError):  # neither form: as if it had none
            return None
    return max(0.0, seconds) if seconds == seconds else None  # NaN: none
