"""The events an endpoint can subscribe to, and the payload each delivery carries.

An event is a row of a change table (`memory_history` for memories) turned into
deliveries by the database's trigger (migration `*_webhooks.sql`); the payload is built
when the delivery is sent, from the record as it is then, so that nothing deleted is
sent after its deletion. A new kind of event is one member of `WebhookEvent` here, and
the trigger on its own change table.
"""

from __future__ import annotations

import json
from enum import StrEnum

from mnemo.clock import to_datetime


class WebhookEvent(StrEnum):
    memory_created = "memory.created"
    memory_updated = "memory.updated"
    memory_deleted = "memory.deleted"


EVENTS = tuple(event.value for event in WebhookEvent)


def canonical(events: list[WebhookEvent] | tuple[str, ...]) -> tuple[str, ...]:
    """The events without repeats, in `EVENTS` order (as stored and shown)."""
    wanted = {str(event) for event in events}
    return tuple(event for event in EVENTS if event in wanted)


def _iso(us: int) -> str:
    return to_datetime(us).isoformat().replace("+00:00", "Z")


def payload(
    event: str, user_name: str, memory_id: str, occurred_at: int, memory: bytes | None
) -> bytes:
    """The body of a delivery (docs/webhooks.md, "Payload"): the memory as stored now
    (its API JSON), or null if it is gone, and always null for `memory.deleted`."""
    current = None if event == WebhookEvent.memory_deleted or memory is None else memory
    body = (
        f'{{"type":{json.dumps(event)},"timestamp":{json.dumps(_iso(occurred_at))},'
        f'"data":{{"user":{json.dumps(user_name)},"memory_id":{json.dumps(memory_id)},'
        f'"memory":{"null" if current is None else current.decode()}}}}}'
    )
    return body.encode()
