"""`mnemo extract`: a transcript on stdin, facts and action items on stdout, nothing
stored; every bad input is one `error:` line and exit 2, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

START = "2026-03-04T10:00:00Z"


def _run(stdin: bytes, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MNEMO_")}
    env["MNEMO_DATABASE_URL"] = "sqlite:////nonexistent-dir/never-created.db"  # stores nothing
    return subprocess.run(
        [sys.executable, "-m", "mnemo", "extract", *args],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_plain_text_prints_facts_and_action_items() -> None:
    said = b"I've been vegan since 2019. I need to call the dentist tomorrow."
    result = _run(said, "--started-at", START)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().splitlines() == [
        "facts:",
        "  - User is vegan",
        "action items:",
        "  - Call the dentist (due 2026-03-05T23:59:00Z)",
    ]


def test_segments_as_json_in_and_out() -> None:
    body = {
        "started_at": START,
        "transcript_segments": [
            {"text": "Your sister Sarah moved to Portland, right?", "speaker": "SPEAKER_01",
             "is_user": False},
            {"text": "Yeah. Remind me to send her a card on Friday.", "is_user": True},
        ],
    }  # fmt: skip
    result = _run(json.dumps(body).encode(), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "facts": ["User's sister Sarah lives in Portland"],
        "action_items": [{"description": "Send her a card", "due_at": "2026-03-06T23:59:00Z"}],
    }


def test_nothing_to_extract_says_so() -> None:
    result = _run(b"lol ok see you then")
    assert result.returncode == 0, result.stderr
    assert b"nothing to extract" in result.stdout


@pytest.mark.parametrize(
    ("stdin", "args", "message"),
    [
        (b"", [], "the transcript on stdin is empty"),
        (b"  \n\t ", [], "the transcript on stdin is empty"),
        (b"\xff\xfe\x00", [], "stdin is not UTF-8 text"),
        (b"{not json", [], "stdin: invalid JSON"),
        (b'{"transcript_segments": []}', [], "transcript_segments must be a non-empty list"),
        (b'{"transcript_segments": "hi"}', [], "transcript_segments must be a non-empty list"),
        (b'{"transcript_segments": [{"text": ""}]}', [], "segment 0: text must be"),
        (b'{"transcript_segments": [{"text": 5}]}', [], "segment 0: text must be"),
        (b'{"transcript_segments": [7]}', [], "segment 0: expected an object"),
        (b'{"transcript_segments": [{"text": "hi", "is_user": "yes"}]}', [], "is_user must be"),
        (b'{"transcript_segments": [{"text": "hi"}], "started_at": "x"}', [], "started_at is not"),
        (json.dumps({"transcript_segments": [{"text": "a"}] * 501}).encode(), [], "at most 500"),
        (b"x" * 100_001, [], "longer than 100,000 characters"),
        (b"I am a nurse.", ["--started-at", "soon"], "--started-at is not an ISO 8601"),
    ],
)
def test_bad_input_is_one_error_line_and_exit_2(
    stdin: bytes, args: list[str], message: str
) -> None:
    result = _run(stdin, *args)
    err = result.stderr.decode()
    assert result.returncode == 2, (result.stdout, err)
    assert err.startswith("error: ") and message in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
