"""Extraction: from a conversation to facts about the user and the user's action items.

- `extract_offline(turns, started_at_us)`: rules on text (`offline.py`), the default.
- `extract(turns, existing=..., settings=..., started_at_us=...)`: the configured
  language model when `MNEMO_LLM_BASE_URL` is set (`llm.py`), the offline extractor
  when there is none, and whenever the model fails, times out or answers nonsense.
  Never raises.

docs/extraction.md describes the rules and their measured quality.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from mnemo.config import Settings
from mnemo.extract.offline import extract_offline, fact_key
from mnemo.extract.types import ActionItemDraft, Extraction, Turn

__all__ = ["ActionItemDraft", "Extraction", "Turn", "extract", "extract_offline"]

log = logging.getLogger("mnemo.extract")


def _offline(turns: Sequence[Turn], started_at_us: int) -> Extraction:
    try:
        return extract_offline(turns, started_at_us)
    except Exception:  # a bug in a rule must not fail the request that stores the conversation
        log.exception("the offline extractor failed; nothing was extracted")
        return Extraction()


def _new(found: Extraction, existing: Sequence[str]) -> Extraction:
    """Without the facts already stored word for word (case and punctuation aside)."""
    known = {fact_key(memory) for memory in existing}
    return Extraction([f for f in found.facts if fact_key(f) not in known], found.action_items)


async def extract(
    turns: Sequence[Turn],
    *,
    existing: Sequence[str],
    settings: Settings,
    started_at_us: int,
) -> Extraction:
    """Facts and action items from a conversation; never raises.

    `existing`: the user's memories, for the model's prompt (and to drop facts already
    stored word for word). `started_at_us`: the conversation's start, against which
    relative due dates are resolved.
    """
    if not turns:
        return Extraction()
    if not settings.llm_base_url:
        return _new(_offline(turns, started_at_us), existing)
    # the model's client (and httpx), imported only when one is configured
    from mnemo.categorize.llm import describe_error
    from mnemo.extract.llm import ask_llm

    try:
        async with asyncio.timeout(settings.llm_timeout_s):
            return _new(await ask_llm(turns, existing, settings, started_at_us), existing)
    except Exception as error:  # noqa: BLE001 - any failure: the offline extractor answers
        log.warning(
            "LLM extraction failed (%s); the offline extractor answered", describe_error(error)
        )
        return _new(_offline(turns, started_at_us), existing)
