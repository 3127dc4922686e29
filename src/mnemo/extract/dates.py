"""Time expressions: finding them in a sentence and resolving a due date against the
conversation's start.

Everything is resolved in UTC (a conversation carries no time zone). A day without a
time of day is due at `DEFAULT_DUE_HOUR`:`DEFAULT_DUE_MINUTE` UTC that day. Weekdays
("Friday", "on Friday", "next Friday", "by Friday") mean the first such day after the
conversation's day; "next week" is the Monday after; "this weekend" the coming
Saturday; "end of the week" the coming Friday; "end of the month" its last day; a
month and day ("March 5", "5th of March") this year, or next year once it has passed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

__all__ = [
    "DEFAULT_DUE_HOUR",
    "DEFAULT_DUE_MINUTE",
    "Due",
    "find_due",
    "has_relative_time",
]

DEFAULT_DUE_HOUR = 23
DEFAULT_DUE_MINUTE = 59

_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_MONTHS = [
    "january", "february", "march", "april", "may", "june", "july", "august",
    "september", "october", "november", "december",
]  # fmt: skip
_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "couple of": 2, "a couple of": 2, "few": 3, "a few": 3,
}  # fmt: skip

_WD = "|".join(_WEEKDAYS)
_MO = "|".join(_MONTHS) + "|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec"
_NUM = r"\d+|" + "|".join(sorted((re.escape(k) for k in _NUMBERS), key=len, reverse=True))
_LEAD = r"(?:(?:by|on|before|until|till|due|for|no later than)\s+)?"

_CLOCK = re.compile(
    r"\s*\b(?:at|by|around|before)\s+(?P<h>\d{1,2})(?::(?P<m>\d{2}))?\s*(?P<ap>a\.?m\.?|p\.?m\.?)?"
    r"(?!\s*(?:years?|days?|weeks?|months?|percent|%))(?=\W|$)|\s*\b(?:at|by|around)\s+(?P<noon>noon|midnight)\b",
    re.I,
)
_DAY_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("day_after", re.compile(rf"\s*\b{_LEAD}(?:the\s+)?day after tomorrow\b", re.I)),
    ("tomorrow", re.compile(rf"\s*\b{_LEAD}tomorrow(?:\s+(?:morning|afternoon|evening|night))?\b", re.I)),  # noqa: E501
    ("today", re.compile(rf"\s*\b{_LEAD}(?:today|tonight|this (?:morning|afternoon|evening))\b", re.I)),  # noqa: E501
    ("end_week", re.compile(rf"\s*\b{_LEAD}(?:the\s+)?end of (?:the|this) week\b", re.I)),
    ("end_month", re.compile(rf"\s*\b{_LEAD}(?:the\s+)?end of (?:the|this) month\b", re.I)),
    ("next_week", re.compile(rf"\s*\b{_LEAD}next week\b", re.I)),
    ("next_month", re.compile(rf"\s*\b{_LEAD}next month\b", re.I)),
    ("weekend", re.compile(rf"\s*\b{_LEAD}(?:this|the) weekend\b", re.I)),
    ("in_n", re.compile(rf"\s*\b(?:in|within)\s+(?:the next\s+)?(?P<n>{_NUM})\s+(?P<unit>hours?|days?|weeks?|months?)\b", re.I)),  # noqa: E501
    ("weekday", re.compile(rf"\s*\b{_LEAD}(?:(?:this|next|coming|this coming)\s+)?(?P<wd>{_WD})(?!s)\b", re.I)),  # noqa: E501
    (
        "month_day",
        re.compile(
            rf"\s*\b{_LEAD}(?:(?P<mo>{_MO})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?"
            rf"|(?:the\s+)?(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mo2>{_MO}))\b",
            re.I,
        ),
    ),
    ("day_only", re.compile(rf"\s*\b{_LEAD}the\s+(?P<d3>\d{{1,2}})(?:st|nd|rd|th)\b(?!\s+(?:of\s+)?(?:{_MO}))", re.I)),  # noqa: E501
]  # fmt: skip

# Words that date a statement relative to the conversation: such a statement is an
# event, never a timeless fact.
_RELATIVE = re.compile(
    rf"\b(?:yesterday|today|tonight|tomorrow|this (?:morning|afternoon|evening|week|weekend)"
    rf"|last (?:night|week|weekend|month|year|time|{_WD})|next (?:week|weekend|month|year|time|{_WD})"  # noqa: E501
    rf"|ago|the other day|earlier|later today|right now|just now|at the moment|this year"
    rf"|on (?:{_WD})(?!s)|recently|lately|these days|so far|in a (?:bit|minute|second|while)"
    rf"|(?:until|till|through) (?:{_WD}|tomorrow|next|the end|further notice))\b",
    re.I,
)


@dataclass(frozen=True)
class Due:
    """A due date found in a sentence: when (µs since the epoch) and the sentence
    without the words that said it."""

    at_us: int
    rest: str


def has_relative_time(text: str) -> bool:
    """True when `text` dates itself relative to now ("yesterday", "last week", "on Friday")."""
    return _RELATIVE.search(text) is not None


def _number(word: str) -> int:
    word = word.lower()
    return int(word) if word.isdigit() else _NUMBERS.get(word, 1)


def _next_weekday(today: date, weekday: int) -> date:
    ahead = (weekday - today.weekday()) % 7
    return today + timedelta(days=ahead or 7)


def _month_number(name: str) -> int:
    name = name.lower()
    return next(i for i, m in enumerate(_MONTHS, start=1) if m.startswith(name[:3]))


def _resolve(kind: str, match: re.Match[str], now: datetime) -> datetime | None:
    today = now.date()
    day: date
    if kind == "day_after":
        day = today + timedelta(days=2)
    elif kind == "tomorrow":
        day = today + timedelta(days=1)
    elif kind == "today":
        day = today
    elif kind == "end_week":
        day = today + timedelta(days=(4 - today.weekday()) % 7)
    elif kind == "end_month":
        first_next = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
        day = first_next - timedelta(days=1)
    elif kind == "next_week":
        day = today + timedelta(days=7 - today.weekday())
    elif kind == "next_month":
        day = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
    elif kind == "weekend":
        day = today if today.weekday() == 5 else _next_weekday(today, 5)
    elif kind == "in_n":
        n, unit = _number(match["n"]), match["unit"].lower().rstrip("s")
        if unit == "hour":
            return now + timedelta(hours=n)
        day = today + timedelta(days=n * {"day": 1, "week": 7, "month": 30}[unit])
    elif kind == "weekday":
        weekday = _WEEKDAYS.index(match["wd"].lower())
        if re.search(r"\bnext\s+\w+$", match.group(0).strip(), re.I):  # "next Friday": next week's
            day = today + timedelta(days=7 - today.weekday() + weekday)
        else:
            day = _next_weekday(today, weekday)
    elif kind == "day_only":  # "by the 20th": this month, or the next once passed
        number = int(match["d3"])
        month, year = today.month, today.year
        for _ in range(3):  # the 31st skips months without one
            try:
                day = date(year, month, number)
            except ValueError:
                day = today - timedelta(days=1)
            if day >= today:
                break
            month, year = (1, year + 1) if month == 12 else (month + 1, year)
        else:
            return None
    else:  # month_day
        month = _month_number(match["mo"] or match["mo2"])
        number = int(match["d"] or match["d2"])
        try:
            day = date(today.year, month, number)
            if day < today:
                day = date(today.year + 1, month, number)
        except ValueError:
            return None
    return datetime.combine(day, time(DEFAULT_DUE_HOUR, DEFAULT_DUE_MINUTE), UTC)


def _clock(match: re.Match[str]) -> time | None:
    if match["noon"]:
        return time(12) if match["noon"].lower() == "noon" else time(23, 59)
    hour, minute = int(match["h"]), int(match["m"] or 0)
    marker = (match["ap"] or "").lower().replace(".", "")
    if marker == "pm" and hour < 12:
        hour += 12
    elif marker == "am" and hour == 12:
        hour = 0
    elif not marker and match["m"] is None and not 1 <= hour <= 12:
        return None  # "at 30": a number, not an hour
    elif not marker and 1 <= hour <= 7:
        hour += 12  # "at 3" in conversation is the afternoon
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def find_due(text: str, started_at_us: int) -> Due | None:
    """The first due date stated in `text`, resolved against `started_at_us`, or None."""
    now = datetime.fromtimestamp(started_at_us / 1_000_000, UTC)
    rest = text
    when: datetime | None = None
    for kind, pattern in _DAY_PATTERNS:
        match = pattern.search(rest)
        if match is None:
            continue
        when = _resolve(kind, match, now)
        if when is not None:
            rest = rest[: match.start()] + rest[match.end() :]
            break
    clock_match = _CLOCK.search(rest)
    clock = _clock(clock_match) if clock_match else None
    if clock is not None and clock_match is not None:
        rest = rest[: clock_match.start()] + rest[clock_match.end() :]
        base = when.date() if when is not None else now.date()
        when = datetime.combine(base, clock, UTC)
        if when < now and clock_match is not None and base == now.date():
            when += timedelta(days=1)  # "at 9" said at 10 means tomorrow at 9
    if when is None:
        return None
    return Due(int(when.timestamp()) * 1_000_000, " ".join(rest.split()))
