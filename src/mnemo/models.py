"""Request and response schemas of the memories API, and the limits they enforce.

They are defined once, in `mnemo_client.models` (the light client distribution, which the
server depends on), so that the client parses answers with the classes the server writes
them with; this module re-exports them for the server, with `new_memory`, which needs the
server's clock."""

from __future__ import annotations

from collections.abc import Sequence

from mnemo.clock import new_id, now_us, scoring, to_datetime
from mnemo_client.models import *  # noqa: F403 (the shared schemas, listed in its __all__)
from mnemo_client.models import Memory
from mnemo_client.models import __all__ as _shared

__all__ = [*_shared, "new_memory"]


def new_memory(
    content: str,
    *,
    memory_id: str | None = None,
    category: str = "system",
    tags: Sequence[str] = (),
    created_us: int | None = None,
    manually_added: bool = True,
) -> Memory:
    """A private memory made now (or at `created_us`), with its `scoring` by Omi's rule:
    for the retrieval evaluation, tests and benchmarks, which store memories directly."""
    created_us = created_us if created_us is not None else now_us()
    at = to_datetime(created_us)
    return Memory(
        id=memory_id or new_id(),
        content=content,
        category=category,
        visibility="private",
        tags=list(tags),
        created_at=at,
        updated_at=at,
        manually_added=manually_added,
        scoring=scoring(manually_added=manually_added, category=category, created_us=created_us),
        reviewed=True,
        user_review=None,
        edited=False,
    )
