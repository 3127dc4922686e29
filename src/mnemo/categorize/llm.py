"""Optional categorisation by a language model behind an OpenAI-compatible endpoint.

`LLMCategorizer` sends one `POST {base_url}/chat/completions` per batch (temperature
0) asking for a JSON array with one label per memory, in order. Whatever goes
wrong (connection refused, the `timeout_s` budget spent, a non-2xx status, a body
that is not the expected JSON, the wrong number of labels, a label other than
`system`/`interesting`) is logged as a warning and the fallback categoriser (the
offline model) answers instead: categorisation never fails a request.

Confidence of a language-model answer: `AGREE_CONFIDENCE` when the offline model
picks the same label, `DISAGREE_CONFIDENCE` when it does not (the language model's
label wins either way). Logs never contain the API key or a memory's text.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from typing import Any

import httpx

from mnemo.categorize.base import AutoCategory, Categorization, Categorizer
from mnemo.config import Settings

__all__ = [
    "AGREE_CONFIDENCE",
    "DISAGREE_CONFIDENCE",
    "SYSTEM_PROMPT",
    "LLMAnswerError",
    "LLMCategorizer",
    "answer_json",
    "chat_json",
    "describe_error",
]

log = logging.getLogger("mnemo.categorize")

AGREE_CONFIDENCE = 0.95
DISAGREE_CONFIDENCE = 0.75

SYSTEM_PROMPT = """\
You sort short facts about a user ("memories") into exactly two categories.
- "system": useful context for an AI assistant: preferences, likes and dislikes, diet, \
work and job details, relationships and family, where they live, logistics and plans, \
health, habits and routines.
- "interesting": a notable, shareable fact the user would tell someone at dinner: \
achievements and awards, adventures and remarkable travel, unusual skills, rare or \
surprising experiences, remarkable family history.
You receive a JSON array of memories. Reply with only a JSON array of labels, one per \
memory, in the same order, each "system" or "interesting". No other text."""

_LABELS: frozenset[str] = frozenset({"system", "interesting"})


class LLMAnswerError(ValueError):
    """The endpoint answered, but not with one valid label per memory."""


def _user_prompt(contents: Sequence[str]) -> str:
    return (
        f"{len(contents)} memories:\n{json.dumps(list(contents), ensure_ascii=False)}\n"
        f"Reply with a JSON array of exactly {len(contents)} labels."
    )


def answer_json(body: Any) -> Any:
    """The JSON a chat-completions response body carries in `choices[0].message.content`
    (a fenced ```json block is unwrapped); LLMAnswerError if there is none."""
    try:
        text = body["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise LLMAnswerError("no choices[0].message.content in the response") from None
    if not isinstance(text, str):
        raise LLMAnswerError("message content is not text")
    text = text.strip()
    if text.startswith("```"):  # a fenced block: ```json\n[...]\n```
        text = text.strip("`").strip()
        if text.lower().startswith("json"):
            text = text[4:]
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise LLMAnswerError("message content is not JSON") from None


async def chat_json(
    client: httpx.AsyncClient, url: str, system: str, user: str, model: str | None
) -> Any:
    """One `POST {url}` (temperature 0, a system and a user message); the JSON of the
    answer (`answer_json`). HTTP errors raise `httpx.HTTPStatusError`."""
    payload: dict[str, Any] = {
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
        "temperature": 0,
    }
    if model:
        payload["model"] = model
    response = await client.post(url, json=payload)
    response.raise_for_status()
    try:
        body = response.json()
    except ValueError:
        raise LLMAnswerError("response body is not JSON") from None
    return answer_json(body)


def parse_labels(body: Any, expected: int) -> list[AutoCategory]:
    """Labels from a chat-completions response body; LLMAnswerError if unusable."""
    return _labels(answer_json(body), expected)


def _labels(answer: Any, expected: int) -> list[AutoCategory]:
    if isinstance(answer, dict) and len(answer) == 1:  # {"labels": [...]}
        answer = next(iter(answer.values()))
    if not isinstance(answer, list):
        raise LLMAnswerError("message content is not a JSON array")
    if len(answer) != expected:
        raise LLMAnswerError(f"{len(answer)} labels for {expected} memories")
    labels: list[AutoCategory] = []
    for item in answer:
        label = item.strip().lower() if isinstance(item, str) else None
        if label not in _LABELS:
            raise LLMAnswerError("a label is neither 'system' nor 'interesting'")
        labels.append("system" if label == "system" else "interesting")
    return labels


class LLMCategorizer:
    """Asks the language model, falls back to `fallback` on any failure.

    Holds one `httpx.AsyncClient`, created on first use; call `aclose()` at shutdown.
    """

    def __init__(
        self,
        base_url: str,
        fallback: Categorizer,
        *,
        model: str | None = None,
        api_key: str | None = None,
        timeout_s: float = 5.0,
    ) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.fallback = fallback
        self.model = model
        self.timeout_s = timeout_s
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client: httpx.AsyncClient | None = None

    @classmethod
    def from_settings(cls, settings: Settings, fallback: Categorizer) -> LLMCategorizer:
        if not settings.llm_base_url:
            raise ValueError("llm_base_url is not set")
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        return cls(
            settings.llm_base_url,
            fallback,
            model=settings.llm_model,
            api_key=key,
            timeout_s=settings.llm_timeout_s,
        )

    def __repr__(self) -> str:  # never show the key
        return f"LLMCategorizer(url={self.url!r}, model={self.model!r})"

    async def categorize(self, contents: Sequence[str]) -> list[Categorization]:
        if not contents:
            return []
        offline = await self.fallback.categorize(contents)
        try:
            async with asyncio.timeout(self.timeout_s):
                labels = await self._ask(contents)
        except Exception as error:  # noqa: BLE001 - any failure means: answer offline
            log.warning(
                "LLM categoriser failed for a batch of %d (%s); the offline classifier answered",
                len(contents),
                describe_error(error),
            )
            return offline
        return [
            Categorization(
                label, AGREE_CONFIDENCE if label == mine.category else DISAGREE_CONFIDENCE
            )
            for label, mine in zip(labels, offline, strict=True)
        ]

    async def _ask(self, contents: Sequence[str]) -> list[AutoCategory]:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout_s, headers=self._headers)
        answer = await chat_json(
            self._client, self.url, SYSTEM_PROMPT, _user_prompt(contents), self.model
        )
        return _labels(answer, len(contents))

    async def aclose(self) -> None:
        """Close the HTTP client (if one was opened)."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def describe_error(error: BaseException) -> str:
    """A short reason for the log: the error's type and, for HTTP errors, the status."""
    if isinstance(error, TimeoutError | httpx.TimeoutException):
        return "timeout"
    if isinstance(error, httpx.HTTPStatusError):
        return f"HTTP {error.response.status_code}"
    if isinstance(error, LLMAnswerError):
        return f"unusable answer: {error}"
    return type(error).__name__
