"""`Idempotency-Key` on the POST routes (docs/api.md, "Idempotency").

A create sent with a key stores its answer (status and body bytes) with the key, the
user and a fingerprint of the request (its path and body bytes), in the same
transaction as the memories it writes. Within `MNEMO_IDEMPOTENCY_TTL_S`, the same key
of the same user answers that answer again, without a write; with another request, 422.
Both backends check the key again inside the write transaction, so concurrent requests
with one key store once: the later ones answer the first's answer (PostgreSQL: they
wait on the key's row until the first commits). Changing or deleting a memory that a
stored answer shows drops that answer (a retry after it is a fresh request).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel

from mnemo.errors import Unprocessable
from mnemo.models import Memory

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_CHARS = 255
DEFAULT_TTL_S = 86_400
EXPIRED_PURGED = 100  # the most expired answers one keyed write deletes
KEY_PATTERN = f"^[ -~]{{1,{MAX_KEY_CHARS}}}$"  # the rule of `parse`, for the OpenAPI document
MALFORMED = f"{HEADER} must be 1-{MAX_KEY_CHARS} printable ASCII characters"
REUSED = f"{HEADER} reused with a different request"


@dataclass(frozen=True)
class Idempotency:
    """A request's key, what identifies the request, and when its answer expires."""

    key: str
    fingerprint: str  # sha256 of the path and the body bytes, hex
    now_us: int
    expires_us: int


def parse(key: str, path: str, body: bytes, now_us: int, ttl_s: int) -> Idempotency:
    """The request's `Idempotency`; 422 for a key that breaks the rule (`MALFORMED`)."""
    if not (0 < len(key) <= MAX_KEY_CHARS and key.isascii() and key.isprintable()):
        raise Unprocessable(MALFORMED)
    digest = hashlib.sha256(path.encode() + b"\n" + body).hexdigest()
    return Idempotency(key, digest, now_us, now_us + ttl_s * 1_000_000)


class Replay(Exception):  # noqa: N818 (not an error: the answer to send again)
    """The stored answer of an earlier request with the same key and fingerprint."""

    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def answer_again(request: Idempotency, stored: tuple[str, int, bytes] | None) -> None:
    """Given the live stored (fingerprint, status, body) of the request's key, if any:
    raise `Replay` for the same request, 422 (`REUSED`) for another; return if none."""
    if stored is None:
        return
    fingerprint, status, body = stored
    if fingerprint != request.fingerprint:
        raise Unprocessable(REUSED)
    raise Replay(status, bytes(body))


def answer_json(answer: BaseModel) -> bytes:
    """A create's answer as the route sends it, and as it is stored for a replay."""
    return answer.model_dump_json().encode()


@dataclass(frozen=True)
class IdempotentWrite:
    """What `Store.insert_memories` needs to store a keyed create's answer with it:
    `render(found)` is the answer's body, given what the insert found repeated."""

    request: Idempotency
    render: Callable[[list[Memory | None]], bytes]
    shows: Sequence[str] = ()  # the other ids it shows: a conversation's, action items'

    def shown_ids(self, memories: Sequence[Memory], found: list[Memory | None]) -> list[str]:
        """What the answer shows: the memories inserted and those repeated, and `shows`."""
        ids = [m.id if f is None else f.id for m, f in zip(memories, found, strict=True)]
        return list(dict.fromkeys([*ids, *self.shows]))
