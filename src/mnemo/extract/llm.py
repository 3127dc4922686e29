"""Extraction by the configured language model (the categoriser's OpenAI-compatible
endpoint and its `chat_json` call), with a prompt that states the rules and the user's
existing memories. `parse_extraction` accepts only the documented answer shape and
raises `LLMAnswerError` on anything else, so the caller can fall back."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from mnemo.categorize.llm import LLMAnswerError, chat_json
from mnemo.config import Settings
from mnemo.extract.text import mentions_speaker_label
from mnemo.extract.types import (
    MAX_ACTION_CHARS,
    MAX_FACT_CHARS,
    ActionItemDraft,
    Extraction,
    Turn,
)

__all__ = ["MAX_EXISTING_IN_PROMPT", "SYSTEM_PROMPT", "ask_llm", "parse_extraction", "user_prompt"]

MAX_EXISTING_IN_PROMPT = 200  # the user's most recent memories the prompt lists

SYSTEM_PROMPT = f"""\
You read a conversation and write down what an assistant should remember about the user.
Reply with only a JSON object: {{"facts": [string, ...], "action_items": \
[{{"description": string, "due_at": string or null}}, ...]}}.
Facts: timeless facts about the user, in the third person, each a short sentence \
starting with "User" ("User is vegetarian", "User's sister Sarah lives in Portland"), \
at most {MAX_FACT_CHARS} characters. Lines marked "User:" are the user's; when someone \
else says something about the user and the user agrees, it is a fact about the user. \
Never include: tasks or to-dos (those are action items), dated or one-off events, \
small talk and greetings, facts about other people unrelated to the user, common \
knowledge, guesses or hedged statements, speaker labels such as "Speaker 1" or \
"SPEAKER_01", relative dates ("yesterday", "next week"). Do not repeat a fact the user's \
existing memories already state; an update or a contradiction of one is a new fact.
Action items: what the user has to do, in the imperative ("Call the dentist"), at most \
{MAX_ACTION_CHARS} characters, with due_at an ISO 8601 date-time in UTC when a due date \
is stated (resolve relative dates against the conversation's start), else null.
Nothing to remember: {{"facts": [], "action_items": []}}."""


def _line(turn: Turn) -> str:
    if turn.is_user is True:
        who = "User"
    elif turn.is_user is False:
        who = f"Other ({turn.speaker})"
    else:
        return turn.text  # a plain-text conversation: its first person is the user
    return f"{who}: {turn.text}"


def user_prompt(turns: Sequence[Turn], existing: Sequence[str], started_at_us: int) -> str:
    started = datetime.fromtimestamp(started_at_us / 1_000_000, UTC).isoformat()
    known = list(existing)[-MAX_EXISTING_IN_PROMPT:]
    return (
        f"The conversation started at {started}.\n"
        f"The user's existing memories: {json.dumps(known, ensure_ascii=False)}\n"
        "The conversation:\n" + "\n".join(_line(turn) for turn in turns)
    )


def _due(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise LLMAnswerError("due_at is neither a string nor null")
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None  # an unreadable date: the item stays, without a due date
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1_000_000)


def parse_extraction(answer: Any) -> Extraction:
    """The model's JSON as an Extraction; LLMAnswerError unless it has the asked shape."""
    if not isinstance(answer, dict):
        raise LLMAnswerError("the answer is not a JSON object")
    facts, items = answer.get("facts"), answer.get("action_items", [])
    if not isinstance(facts, list) or not isinstance(items, list):
        raise LLMAnswerError("facts or action_items is not a list")
    clean_facts: list[str] = []
    for fact in facts:
        if not isinstance(fact, str):
            raise LLMAnswerError("a fact is not a string")
        fact = " ".join(fact.split())
        if mentions_speaker_label(fact):
            continue  # the prompt forbids them; a fact naming "Speaker 1" is useless
        if fact and len(fact) <= MAX_FACT_CHARS and fact not in clean_facts:
            clean_facts.append(fact)
    drafts: list[ActionItemDraft] = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("description"), str):
            raise LLMAnswerError("an action item has no description")
        description = " ".join(item["description"].split())[:MAX_ACTION_CHARS]
        if description:
            drafts.append(ActionItemDraft(description, _due(item.get("due_at"))))
    return Extraction(clean_facts, drafts)


async def ask_llm(
    turns: Sequence[Turn], existing: Sequence[str], settings: Settings, started_at_us: int
) -> Extraction:
    """One chat completion; raises on any failure (the caller falls back)."""
    if not settings.llm_base_url:
        raise ValueError("llm_base_url is not set")
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    url = settings.llm_base_url.rstrip("/") + "/chat/completions"
    async with httpx.AsyncClient(timeout=settings.llm_timeout_s, headers=headers) as client:
        answer = await chat_json(
            client,
            url,
            SYSTEM_PROMPT,
            user_prompt(turns, existing, started_at_us),
            settings.llm_model,
        )
    return parse_extraction(answer)
