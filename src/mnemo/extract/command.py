"""`mnemo extract`: what the extractor would take from a transcript, stored nowhere.

Registered by `mnemo.cli`. Reads stdin: plain text (one conversation, its first
person the user's), or JSON `{"transcript_segments": [{"text", "speaker", "is_user"},
...], "started_at": ...}` as `POST /v1/dev/user/conversations/from-segments` takes it.
Uses the configured language model when `MNEMO_LLM_BASE_URL` is set, as the server
does, and the offline extractor otherwise.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from mnemo.cli_support import EXIT_USAGE, CliError, open_stdin
from mnemo.clock import now_us
from mnemo.config import InvalidSettings, load_settings
from mnemo.extract import Extraction, Turn, extract
from mnemo.extract.types import MAX_ACTION_CHARS

__all__ = ["MAX_SEGMENTS", "MAX_TEXT_CHARS", "extract_command", "parse_transcript"]

MAX_TEXT_CHARS = 100_000  # as POST /conversations allows
MAX_SEGMENTS = 500  # as POST /conversations/from-segments allows


def _usage(message: str) -> CliError:
    return CliError(message, EXIT_USAGE)


def _instant(value: Any, where: str) -> int:
    if not isinstance(value, str):
        raise _usage(f"{where} must be an ISO 8601 date-time")
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise _usage(f"{where} is not an ISO 8601 date-time: {value[:40]!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp()) * 1_000_000


def _segment(index: int, item: Any) -> Turn:
    if not isinstance(item, dict):
        raise _usage(f"segment {index}: expected an object")
    text = item.get("text")
    if not isinstance(text, str) or not text.strip():
        raise _usage(f"segment {index}: text must be a non-empty string")
    speaker = item.get("speaker", "SPEAKER_00")
    if not isinstance(speaker, str):
        raise _usage(f"segment {index}: speaker must be a string")
    is_user = item.get("is_user")
    if is_user is not None and not isinstance(is_user, bool):
        raise _usage(f"segment {index}: is_user must be true, false or null")
    return Turn(text, speaker or "SPEAKER_00", is_user)


def parse_transcript(data: bytes) -> tuple[list[Turn], int | None]:
    """The turns (and the start, if the JSON gives one) of a transcript; `CliError`
    (exit 2) naming what is wrong."""
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise _usage("stdin is not UTF-8 text") from None
    if not text.strip():
        raise _usage("the transcript on stdin is empty")
    if not text.lstrip().startswith("{"):
        if len(text) > MAX_TEXT_CHARS:
            raise _usage(f"the transcript is longer than {MAX_TEXT_CHARS:,} characters")
        return [Turn(text)], None
    try:
        record = json.loads(text)
    except json.JSONDecodeError as error:
        raise _usage(f"stdin: invalid JSON ({error.msg} at line {error.lineno})") from None
    if not isinstance(record, dict):
        raise _usage("stdin: expected a JSON object with transcript_segments")
    segments = record.get("transcript_segments")
    if not isinstance(segments, list) or not segments:
        raise _usage("transcript_segments must be a non-empty list")
    if len(segments) > MAX_SEGMENTS:
        raise _usage(f"at most {MAX_SEGMENTS} transcript_segments, got {len(segments)}")
    turns = [_segment(i, item) for i, item in enumerate(segments)]
    if sum(len(t.text) for t in turns) > MAX_TEXT_CHARS:
        raise _usage(f"the transcript is longer than {MAX_TEXT_CHARS:,} characters")
    started = record.get("started_at")
    return turns, None if started is None else _instant(started, "started_at")


def _iso(us: int | None) -> str | None:
    if us is None:
        return None
    return datetime.fromtimestamp(us / 1_000_000, UTC).isoformat().replace("+00:00", "Z")


def _render(found: Extraction, as_json: bool) -> str:
    if as_json:
        return json.dumps(
            {
                "facts": found.facts,
                "action_items": [
                    {"description": a.description, "due_at": _iso(a.due_at)}
                    for a in found.action_items
                ],
            },
            ensure_ascii=False,
        )
    if found.empty:
        return "nothing to extract (the conversation would be stored as discarded)"
    lines = ["facts:" if found.facts else "facts: none"]
    lines += [f"  - {fact}" for fact in found.facts]
    lines.append("action items:" if found.action_items else "action items: none")
    for item in found.action_items:
        due = f" (due {_iso(item.due_at)})" if item.due_at is not None else ""
        lines.append(f"  - {item.description[:MAX_ACTION_CHARS]}{due}")
    return "\n".join(lines)


def extract_command(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object instead of a list.")
    ] = False,
    started_at: Annotated[
        str | None,
        typer.Option(
            "--started-at",
            metavar="WHEN",
            help="ISO 8601 start of the conversation, for due dates (default: the JSON's "
            "started_at, else now).",
        ),
    ] = None,
) -> None:
    """Print the facts and action items a transcript on stdin would give; stores nothing.

    Input: plain text, or JSON {"transcript_segments": [{"text", "speaker", "is_user"}]}.
    Bad input exits with 2.
    """
    try:
        settings = load_settings()
    except InvalidSettings as error:
        raise CliError(str(error), EXIT_USAGE) from None
    flag_start = None if started_at is None else _instant(started_at, "--started-at")
    stream = open_stdin()
    try:
        data = stream.read()
    except OSError as error:
        raise CliError(f"cannot read stdin: {error.strerror or error}", 3) from None
    turns, json_start = parse_transcript(data)
    start = flag_start or json_start or now_us()
    found = asyncio.run(extract(turns, existing=[], settings=settings, started_at_us=start))
    typer.echo(_render(found, as_json))
