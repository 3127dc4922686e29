"""`extract()` with a language model: a real local OpenAI-compatible HTTP server.

A good answer is used; whatever the endpoint does wrong (slow, 500, not JSON, the
wrong shape), the offline extractor answers and nothing raises.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import SecretStr
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from mnemo.config import Settings
from mnemo.extract import ActionItemDraft, Extraction, Turn, extract, extract_offline
from mnemo.extract.llm import SYSTEM_PROMPT
from tests.categorize.llm_server import FakeLLM, RunningServer, _completion, free_port

STARTED = int(datetime(2026, 3, 4, 10, 0, tzinfo=UTC).timestamp()) * 1_000_000
TURNS = [
    Turn("So your sister Sarah moved to Portland?", "SPEAKER_01", False),
    Turn(
        "Yeah. I've been vegan since 2019. I need to call the dentist tomorrow.", "SPEAKER_00", True
    ),
]
GOOD = {
    "facts": ["User's sister Sarah lives in Portland", "User is vegan"],
    "action_items": [{"description": "Call the dentist", "due_at": "2026-03-05T09:00:00Z"}],
}


@dataclass
class ExtractionLLM(FakeLLM):
    """Answers `reply` (a JSON-able object) in mode `good`; the modes of FakeLLM else."""

    reply: Any = None

    async def chat(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append({"headers": dict(request.headers), "body": body})
        content = json.dumps(self.reply)
        if self.mode == "good":
            return JSONResponse(_completion(content))
        if self.mode == "fenced":
            return JSONResponse(_completion(f"```json\n{content}\n```"))
        if self.mode == "slow":
            await asyncio.sleep(self.slow_s)
            return JSONResponse(_completion(content))
        if self.mode == "error500":
            return JSONResponse({"error": {"message": "boom"}}, status_code=500)
        if self.mode == "garbage":
            return JSONResponse(_completion("Sure! The user is vegan and has a sister."))
        if self.mode == "not_json_body":
            return PlainTextResponse("<html>gateway</html>")
        if self.mode == "no_choices":
            return JSONResponse({"id": "x", "choices": []})
        raise AssertionError(self.mode)


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    running = RunningServer(ExtractionLLM())
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def llm(server: RunningServer) -> ExtractionLLM:
    fake = server.fake
    assert isinstance(fake, ExtractionLLM)
    fake.mode, fake.reply = "good", GOOD
    fake.requests.clear()
    return fake


def _settings(llm: ExtractionLLM, timeout_s: float = 5.0) -> Settings:
    return Settings(
        llm_base_url=llm.base_url,
        llm_model="tiny",
        llm_api_key=SecretStr("sk-extract-test"),
        llm_timeout_s=timeout_s,
    )


async def test_a_good_answer_is_used_and_the_prompt_states_rules_and_existing(
    llm: ExtractionLLM,
) -> None:
    existing = ["User works at a bakery", "User has a cat named Miso"]
    found = await extract(TURNS, existing=existing, settings=_settings(llm), started_at_us=STARTED)
    due = int(datetime(2026, 3, 5, 9, 0, tzinfo=UTC).timestamp()) * 1_000_000
    assert found == Extraction(
        ["User's sister Sarah lives in Portland", "User is vegan"],
        [ActionItemDraft("Call the dentist", due)],
    )
    (request,) = llm.requests
    assert request["headers"]["authorization"] == "Bearer sk-extract-test"
    body = request["body"]
    assert body["model"] == "tiny" and body["temperature"] == 0
    system, user = (m["content"] for m in body["messages"])
    assert system == SYSTEM_PROMPT
    for rule in ["action items", "one-off events", "small talk", "hedged", "Speaker 1", "relative"]:
        assert rule in system
    assert json.dumps(existing) in user
    assert "User: Yeah. I've been vegan" in user and "Other (SPEAKER_01):" in user
    assert "2026-03-04T10:00:00+00:00" in user


async def test_a_fenced_answer_is_accepted_and_bad_or_known_facts_dropped(
    llm: ExtractionLLM,
) -> None:
    llm.mode = "fenced"
    llm.reply = {
        "facts": ["User is vegan", "Speaker 1 is a nurse", "x" * 501, "User has a cat named Io"],
        "action_items": [{"description": "Call", "due_at": "soon"}],
    }
    found = await extract(
        TURNS, existing=["User has a cat named io."], settings=_settings(llm), started_at_us=STARTED
    )
    assert found == Extraction(["User is vegan"], [ActionItemDraft("Call", None)])


@pytest.mark.parametrize(
    ("mode", "reply"),
    [
        ("slow", GOOD),
        ("error500", GOOD),
        ("garbage", GOOD),
        ("not_json_body", GOOD),
        ("no_choices", GOOD),
        ("good", ["User is vegan"]),  # a list, not the object asked for
        ("good", {"facts": "User is vegan"}),
        ("good", {"facts": [1, 2]}),
        ("good", {"facts": [], "action_items": [{"due_at": None}]}),
        ("good", {"facts": [], "action_items": [{"description": "x", "due_at": 5}]}),
    ],
)
async def test_any_failure_falls_back_to_the_offline_extractor(
    llm: ExtractionLLM, mode: str, reply: Any, caplog: pytest.LogCaptureFixture
) -> None:
    llm.mode, llm.reply = mode, reply
    found = await extract(
        TURNS, existing=[], settings=_settings(llm, timeout_s=0.5), started_at_us=STARTED
    )
    assert found == extract_offline(TURNS, STARTED)
    assert "User is vegan" in found.facts
    assert any("offline extractor answered" in r.getMessage() for r in caplog.records)
    assert all("sk-extract-test" not in r.getMessage() for r in caplog.records)


async def test_an_endpoint_nobody_listens_on_falls_back() -> None:
    settings = Settings(llm_base_url=f"http://127.0.0.1:{free_port()}/v1", llm_timeout_s=2)
    found = await extract(TURNS, existing=[], settings=settings, started_at_us=STARTED)
    assert found == extract_offline(TURNS, STARTED)


async def test_offline_by_default_drops_facts_already_stored() -> None:
    found = await extract(
        TURNS, existing=["user is VEGAN."], settings=Settings(), started_at_us=STARTED
    )
    assert "User is vegan" not in found.facts
    assert "User's sister Sarah lives in Portland" in found.facts
    assert (
        await extract([], existing=[], settings=Settings(), started_at_us=STARTED) == Extraction()
    )
