"""Auto-categorisation: decide `system` or `interesting` for a memory without one.

Every categoriser implements `Categorizer`; the service uses only that.

- `OfflineCategorizer` (default): the shipped linear model, pure Python, no network.
- `LLMCategorizer` (mnemo.categorize.llm): an OpenAI-compatible chat endpoint, used only when
  `MNEMO_LLM_BASE_URL` is set; the offline model answers whenever it fails.
"""

from __future__ import annotations

from mnemo.categorize.base import Categorization, Categorizer
from mnemo.categorize.model import OfflineCategorizer, OfflineModel, load_model
from mnemo.config import Settings

__all__ = [
    "Categorization",
    "Categorizer",
    "OfflineCategorizer",
    "OfflineModel",
    "close_categorizer",
    "default_categorizer",
    "load_model",
]


def default_categorizer(settings: Settings) -> Categorizer:
    """The categoriser the service uses unless a test injects another.

    Loads the offline model (tens of milliseconds, once per process); wraps it in
    an `LLMCategorizer` when `settings.llm_base_url` is set.
    """
    offline = OfflineCategorizer(load_model())
    if settings.llm_base_url:
        from mnemo.categorize.llm import LLMCategorizer  # and httpx, only when configured

        return LLMCategorizer.from_settings(settings, fallback=offline)
    return offline


async def close_categorizer(categorizer: Categorizer) -> None:
    """Release what a categoriser holds (the LLM's HTTP client); safe on any categoriser."""
    close = getattr(categorizer, "aclose", None)
    if close is not None:
        await close()
