"""The optional language model, against a real local OpenAI-compatible HTTP server.

Whatever the endpoint does wrong, the offline model's answers come back and no
exception escapes; when it answers well, its labels are used.
"""

from __future__ import annotations

import logging

import pytest
from pydantic import SecretStr

from mnemo.categorize import (
    OfflineCategorizer,
    close_categorizer,
    default_categorizer,
)
from mnemo.categorize.llm import (
    AGREE_CONFIDENCE,
    DISAGREE_CONFIDENCE,
    LLMCategorizer,
    parse_labels,
)
from mnemo.config import Settings
from tests.categorize.llm_server import FakeLLM, free_port

SYSTEMISH = "User is vegetarian and prefers oat milk"
INTERESTING = "User climbed Mount Kilimanjaro in 2018"
KEY = "sk-test-secret-123456"


def _llm(fake: FakeLLM, timeout_s: float = 5.0) -> LLMCategorizer:
    return LLMCategorizer(
        fake.base_url, OfflineCategorizer(), model="tiny", api_key=KEY, timeout_s=timeout_s
    )


async def test_good_answer_is_used_and_sent_as_one_openai_request(fake_llm: FakeLLM) -> None:
    offline = await OfflineCategorizer().categorize([SYSTEMISH, INTERESTING])
    assert [a.category for a in offline] == ["system", "interesting"]
    fake_llm.answer = lambda content: "interesting"  # disagrees on the first memory
    llm = _llm(fake_llm)
    try:
        answers = await llm.categorize([SYSTEMISH, INTERESTING])
    finally:
        await llm.aclose()
    assert [a.category for a in answers] == ["interesting", "interesting"]
    assert [a.confidence for a in answers] == [DISAGREE_CONFIDENCE, AGREE_CONFIDENCE]
    assert len(fake_llm.requests) == 1
    request = fake_llm.requests[0]
    assert request["headers"]["authorization"] == f"Bearer {KEY}"
    assert request["body"]["model"] == "tiny"
    assert request["body"]["temperature"] == 0
    roles = [m["role"] for m in request["body"]["messages"]]
    assert roles == ["system", "user"]
    assert SYSTEMISH in request["body"]["messages"][1]["content"]


async def test_a_batch_of_25_is_one_call_with_answers_in_order(fake_llm: FakeLLM) -> None:
    contents = [f"User fact number {i}" for i in range(25)]
    fake_llm.answer = lambda c: "interesting" if int(c.rsplit(" ", 1)[1]) % 3 == 0 else "system"
    llm = _llm(fake_llm)
    try:
        answers = await llm.categorize(contents)
    finally:
        await llm.aclose()
    assert len(fake_llm.requests) == 1
    assert [a.category for a in answers] == [
        "interesting" if i % 3 == 0 else "system" for i in range(25)
    ]


async def test_fenced_json_answer_is_accepted(fake_llm: FakeLLM) -> None:
    fake_llm.mode = "fenced"
    fake_llm.answer = lambda content: "system"
    llm = _llm(fake_llm)
    try:
        answers = await llm.categorize([INTERESTING])
    finally:
        await llm.aclose()
    assert [a.category for a in answers] == ["system"]


@pytest.mark.parametrize(
    "mode",
    ["slow", "error500", "garbage", "not_json_body", "unknown_label", "wrong_count", "no_choices"],
)
async def test_any_failure_falls_back_to_the_offline_answer(
    fake_llm: FakeLLM, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    fake_llm.mode = mode
    fake_llm.answer = lambda content: "interesting" if content == SYSTEMISH else "system"
    contents = [SYSTEMISH, INTERESTING]
    expected = await OfflineCategorizer().categorize(contents)
    # Only "slow" should time out; the others answer at once, and a short timeout
    # would let a loaded machine time them out before the server saw the request.
    llm = _llm(fake_llm, timeout_s=1.0 if mode == "slow" else 10.0)
    caplog.set_level(logging.WARNING, logger="mnemo.categorize")
    try:
        answers = await llm.categorize(contents)
    finally:
        await llm.aclose()
    assert answers == expected
    assert len(fake_llm.requests) == 1  # the endpoint was really asked
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    logged = caplog.text
    assert KEY not in logged
    assert SYSTEMISH not in logged  # memory text stays out of the logs


async def test_timeout_reason_is_logged(
    fake_llm: FakeLLM, caplog: pytest.LogCaptureFixture
) -> None:
    fake_llm.mode = "slow"
    caplog.set_level(logging.WARNING, logger="mnemo.categorize")
    llm = _llm(fake_llm, timeout_s=1.0)
    try:
        await llm.categorize([SYSTEMISH])
    finally:
        await llm.aclose()
    assert "timeout" in caplog.text


async def test_unreachable_endpoint_falls_back(caplog: pytest.LogCaptureFixture) -> None:
    llm = LLMCategorizer(
        f"http://127.0.0.1:{free_port()}/v1", OfflineCategorizer(), api_key=KEY, timeout_s=2
    )
    caplog.set_level(logging.WARNING, logger="mnemo.categorize")
    try:
        answers = await llm.categorize([SYSTEMISH, INTERESTING])
    finally:
        await llm.aclose()
    assert answers == await OfflineCategorizer().categorize([SYSTEMISH, INTERESTING])
    assert "ConnectError" in caplog.text
    assert KEY not in caplog.text


async def test_empty_batch_makes_no_call(fake_llm: FakeLLM) -> None:
    llm = _llm(fake_llm)
    assert await llm.categorize([]) == []
    assert fake_llm.requests == []
    await llm.aclose()


async def test_default_categorizer_follows_settings(fake_llm: FakeLLM) -> None:
    offline = default_categorizer(Settings(llm_base_url=None))
    assert isinstance(offline, OfflineCategorizer)
    await close_categorizer(offline)  # nothing to close, must not fail

    settings = Settings(
        llm_base_url=fake_llm.base_url + "/",
        llm_model="tiny",
        llm_api_key=SecretStr(KEY),
        llm_timeout_s=2,
    )
    llm = default_categorizer(settings)
    assert isinstance(llm, LLMCategorizer)
    assert KEY not in repr(llm)
    fake_llm.answer = lambda content: "system"
    try:
        answers = await llm.categorize([INTERESTING])
    finally:
        await close_categorizer(llm)
    assert [a.category for a in answers] == ["system"]
    assert fake_llm.requests[0]["headers"]["authorization"] == f"Bearer {KEY}"


async def test_no_key_sends_no_authorization_header(fake_llm: FakeLLM) -> None:
    llm = LLMCategorizer(fake_llm.base_url, OfflineCategorizer())
    try:
        await llm.categorize([SYSTEMISH])
    finally:
        await llm.aclose()
    assert "authorization" not in fake_llm.requests[0]["headers"]
    assert "model" not in fake_llm.requests[0]["body"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('["system", "Interesting "]', ["system", "interesting"]),
        ('{"labels": ["interesting", "system"]}', ["interesting", "system"]),
    ],
)
def test_parse_labels_accepts_plain_and_wrapped_arrays(content: str, expected: list[str]) -> None:
    body = {"choices": [{"message": {"content": content}}]}
    assert parse_labels(body, 2) == expected


@pytest.mark.parametrize(
    "content", ['["system"]', '["system", 3]', '"system"', "system, interesting", "[null, null]"]
)
def test_parse_labels_rejects_unusable_answers(content: str) -> None:
    with pytest.raises(ValueError):
        parse_labels({"choices": [{"message": {"content": content}}]}, 2)
