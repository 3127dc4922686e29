"""Request and response schemas of the memories API, and the limits they enforce.

They are defined once, in `mnemo_client.models` (the light client distribution, which the
server depends on), so that the client parses answers with the classes the server writes
them with; this module re-exports them for the server, with `new_memory`, which needs the
server's clock, and the strict integer types of the query parameters."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated

from pydantic import BeforeValidator, Field, Strict
from pydantic_core import PydanticCustomError

from mnemo.clock import new_id, now_us, scoring, to_datetime
from mnemo_client.conversation_models import *  # noqa: F403 (listed in its __all__)
from mnemo_client.conversation_models import __all__ as _conversations
from mnemo_client.models import *  # noqa: F403 (the shared schemas, listed in its __all__)
from mnemo_client.models import MAX_SEARCH_LIMIT, Memory
from mnemo_client.models import __all__ as _shared

__all__ = [*_shared, *_conversations, "Integer", "MinScore", "SearchLimit", "new_memory"]

_DECIMAL = re.compile(r"-?[0-9]+")


def _decimal(value: object) -> object:
    """A string written as plain decimal digits with an optional leading `-`, as an int;
    any other spelling (`1.0`, `1_000`, ` 5`, `+5`, `５`, `0x10`) is refused."""
    if not isinstance(value, str):
        return value
    if _DECIMAL.fullmatch(value):
        try:
            return int(value)
        except ValueError:  # over Python's 4300-digit limit for a decimal string
            pass
    raise PydanticCustomError(
        "int_parsing", "Input should be a valid integer, unable to parse string as an integer"
    )


# Every integer parameter the API takes (query or path) is one of these: plain decimal
# digits, an optional leading `-` (`_decimal`). Bounds go before the validators, so
# that OpenAPI documents them as `minimum`/`maximum`.
Integer = Annotated[int, Strict(), BeforeValidator(_decimal)]
SearchLimit = Annotated[int, Field(ge=1, le=MAX_SEARCH_LIMIT), Strict(), BeforeValidator(_decimal)]
# A search's `min_score`: the lowest `relevance_score` returned (0-1, finite; 0: all).
MinScore = Annotated[
    float,
    Field(
        ge=0.0,
        le=1.0,
        allow_inf_nan=False,
        description=(
            "Return only memories with a relevance_score of at least this (0-1; the "
            "score is a calibrated probability of relevance, docs/search.md). Default 0: "
            "up to `limit` results, however weak."
        ),
    ),
]


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
