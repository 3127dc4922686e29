"""Webhook records, and the SQL both backends share (same columns on each; docs/webhooks.md).

An endpoint's owner is a user's id, or None for the admin's endpoints (which get the
events of every user). A delivery is one row of the outbox: an event for one endpoint,
written by the database's trigger on `memory_history` in the change's transaction; it
holds ids and times only, never memory text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"


@dataclass(frozen=True)
class Endpoint:
    id: str
    user_id: str | None  # None: the admin's
    url: str
    events: tuple[str, ...]
    description: str
    secret: str  # whsec_..., needed to sign (docs/security.md)
    enabled: bool
    created_at: int  # microseconds since the epoch
    updated_at: int


@dataclass(frozen=True)
class Delivery:
    seq: int
    id: str  # the Standard Webhooks message id: `webhook-id`
    endpoint_id: str
    user_id: str
    user_name: str
    event: str
    memory_id: str
    occurred_at: int
    status: str  # PENDING, DELIVERED, FAILED
    attempts: int
    retry_from: int
    next_attempt_at: int
    leased_until: int
    last_attempt_at: int | None
    last_error: str | None
    delivered_at: int | None


@dataclass(frozen=True)
class Claimed:
    """A delivery leased to this worker, with what sending it needs."""

    delivery: Delivery
    url: str
    secret: str


@dataclass(frozen=True)
class Attempt:
    """What one attempt did: the delivery's status after it, when it is next due (if
    pending), its error (None if delivered)."""

    status: str
    at: int
    next_attempt_at: int
    error: str | None


EndpointChange = Callable[[Endpoint], Endpoint]

ENDPOINT_COLUMNS = "id, user_id, url, events, description, secret, enabled, created_at, updated_at"
_DELIVERY_COLUMNS = (
    "d.seq, d.id, d.endpoint_id, d.user_id, u.name, d.event, d.memory_id, d.occurred_at,"
    " d.status, d.attempts, d.retry_from, d.next_attempt_at, d.leased_until,"
    " d.last_attempt_at, d.last_error, d.delivered_at"
)
_DELIVERY_FROM = "webhook_deliveries d JOIN users u ON u.id = d.user_id"


def endpoint_from_row(row: Sequence[Any]) -> Endpoint:
    return Endpoint(
        id=row[0],
        user_id=row[1],
        url=row[2],
        events=tuple(row[3].split()),
        description=row[4],
        secret=row[5],
        enabled=bool(row[6]),
        created_at=row[7],
        updated_at=row[8],
    )


def endpoint_values(endpoint: Endpoint) -> tuple[Any, ...]:
    """Values in ENDPOINT_COLUMNS order (`enabled` as a Python bool)."""
    return (
        endpoint.id,
        endpoint.user_id,
        endpoint.url,
        " ".join(endpoint.events),
        endpoint.description,
        endpoint.secret,
        endpoint.enabled,
        endpoint.created_at,
        endpoint.updated_at,
    )


def delivery_from_row(row: Sequence[Any]) -> Delivery:
    return Delivery(*row[:16])


def claimed_from_row(row: Sequence[Any]) -> Claimed:
    return Claimed(delivery_from_row(row), url=row[16], secret=row[17])


class WebhookSql:
    """The statements, spelled for one backend: `mark(n)` is the n-th parameter (`?` or
    `$n`), `owner_is(n)` compares `user_id` with it, NULL (the admin) included."""

    def __init__(self, mark: Callable[[int], str], owner_is: Callable[[str, int], str]) -> None:
        m = mark
        owned = owner_is("user_id", 1)
        self.insert_endpoint = (
            f"INSERT INTO webhook_endpoints ({ENDPOINT_COLUMNS})"
            f" VALUES ({', '.join(m(i) for i in range(1, 10))})"
        )
        self.count_endpoints = f"SELECT count(*) FROM webhook_endpoints WHERE {owned}"
        self.list_endpoints = (
            f"SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE {owned}"
            " ORDER BY created_at, id"
        )
        self.get_endpoint = (
            f"SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE {owned} AND id = {m(2)}"
        )
        self.update_endpoint = (
            f"UPDATE webhook_endpoints SET url = {m(3)}, events = {m(4)}, enabled = {m(5)},"
            f" description = {m(6)}, updated_at = {m(7)} WHERE {owned} AND id = {m(2)}"
        )
        self.delete_endpoint = f"DELETE FROM webhook_endpoints WHERE {owned} AND id = {m(2)}"
        self.list_deliveries = (
            f"SELECT {_DELIVERY_COLUMNS} FROM {_DELIVERY_FROM} WHERE d.endpoint_id = {m(1)}"
            f" ORDER BY d.seq DESC LIMIT {m(2)} OFFSET {m(3)}"
        )
        self.get_delivery = (
            f"SELECT {_DELIVERY_COLUMNS} FROM {_DELIVERY_FROM}"
            f" WHERE d.endpoint_id = {m(1)} AND d.id = {m(2)}"
        )
        # A replay makes it due now, with a new retry window; a lease in progress stays
        # (that attempt's outcome is recorded as usual).
        self.replay = (
            f"UPDATE webhook_deliveries SET status = '{PENDING}', retry_from = {m(3)},"
            f" next_attempt_at = {m(3)}, delivered_at = NULL"
            f" WHERE endpoint_id = {m(1)} AND id = {m(2)}"
        )
        # Due: pending, its time come, not leased, of an enabled endpoint.
        self.due = (
            "SELECT d.seq FROM webhook_deliveries d"
            " JOIN webhook_endpoints e ON e.id = d.endpoint_id"
            f" WHERE d.status = '{PENDING}' AND d.next_attempt_at <= {m(1)}"
            f" AND d.leased_until <= {m(1)} AND e.enabled = {m(3)}"
            f" ORDER BY d.next_attempt_at, d.seq LIMIT {m(2)}"
        )
        # Delivered and failed rows last tried before $1, oldest first, $2 of them.
        self.prune = (
            "DELETE FROM webhook_deliveries WHERE seq IN (SELECT seq FROM webhook_deliveries"
            f" WHERE status <> '{PENDING}' AND last_attempt_at < {m(1)} ORDER BY seq"
            f" LIMIT {m(2)})"
        )
        self.finish = (
            f"UPDATE webhook_deliveries SET status = {m(3)}, attempts = attempts + 1,"
            f" last_attempt_at = {m(4)}, next_attempt_at = {m(5)}, last_error = {m(6)},"
            f" delivered_at = {m(7)}, leased_until = 0"
            f" WHERE seq = {m(1)} AND leased_until = {m(2)}"
        )

    @staticmethod
    def claimed(marks: str) -> str:
        """The leased deliveries `d.seq IN (marks)` with their endpoints' URL and secret."""
        return (
            f"SELECT {_DELIVERY_COLUMNS}, e.url, e.secret FROM {_DELIVERY_FROM}"
            f" JOIN webhook_endpoints e ON e.id = d.endpoint_id WHERE d.seq IN ({marks})"
            " ORDER BY d.seq"
        )
