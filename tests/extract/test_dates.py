"""Due dates resolved against the conversation's start (Wednesday 4 March 2026, 10:00 UTC)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mnemo.extract.dates import find_due, has_relative_time

STARTED = int(datetime(2026, 3, 4, 10, 0, tzinfo=UTC).timestamp()) * 1_000_000


@pytest.mark.parametrize(
    ("said", "due", "rest"),
    [
        ("call the bank today", "2026-03-04T23:59", "call the bank"),
        ("call the bank tomorrow", "2026-03-05T23:59", "call the bank"),
        ("send it by Friday", "2026-03-06T23:59", "send it"),
        ("send it on Wednesday", "2026-03-11T23:59", "send it"),  # today is Wednesday
        ("send it next Friday", "2026-03-13T23:59", "send it"),
        ("book flights next week", "2026-03-09T23:59", "book flights"),
        ("clean the garage this weekend", "2026-03-07T23:59", "clean the garage"),
        ("pay rent by the end of the month", "2026-03-31T23:59", "pay rent"),
        ("file the report by end of the week", "2026-03-06T23:59", "file the report"),
        ("renew it before March 15th", "2026-03-15T23:59", "renew it"),
        ("renew it by the 2nd of February", "2027-02-02T23:59", "renew it"),  # passed: next year
        ("water plants in three days", "2026-03-07T23:59", "water plants"),
        ("pick up Emma at 3pm", "2026-03-04T15:00", "pick up Emma"),
        ("meet Jo tomorrow at 9:30 am", "2026-03-05T09:30", "meet Jo"),
        ("meet at 9", "2026-03-05T09:00", "meet"),  # 9 has passed today
        ("lunch at noon", "2026-03-04T12:00", "lunch"),
        ("order jerseys by the 20th", "2026-03-20T23:59", "order jerseys"),
        ("pay it on the 3rd", "2026-04-03T23:59", "pay it"),  # passed this month
    ],
)
def test_due_dates(said: str, due: str, rest: str) -> None:
    found = find_due(said, STARTED)
    assert found is not None
    at = datetime.fromtimestamp(found.at_us / 1_000_000, UTC).strftime("%Y-%m-%dT%H:%M")
    assert (at, found.rest) == (due, rest)


@pytest.mark.parametrize("said", ["buy milk", "I ran 30 miles", "on February 30th", "at 99"])
def test_no_due_date(said: str) -> None:
    assert find_due(said, STARTED) is None


def test_relative_time_words() -> None:
    assert has_relative_time("I went there yesterday")
    assert has_relative_time("we met on Friday")
    assert not has_relative_time("I swim on Fridays")
    assert not has_relative_time("I have lived here since 2019")
