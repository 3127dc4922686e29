"""The offline extractor, rule by rule, on sentences written for these tests."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mnemo.extract import ActionItemDraft, Turn, extract_offline
from mnemo.extract.evaluate import long_transcript
from mnemo.extract.types import MAX_FACT_CHARS

# Wednesday 4 March 2026, 10:00 UTC
STARTED = int(datetime(2026, 3, 4, 10, 0, tzinfo=UTC).timestamp()) * 1_000_000


def _us(year: int, month: int, day: int, hour: int = 23, minute: int = 59) -> int:
    return int(datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp()) * 1_000_000


def facts(text: str) -> list[str]:
    return extract_offline([Turn(text)], STARTED).facts


@pytest.mark.parametrize(
    ("said", "fact"),
    [
        ("I've been vegan since 2019.", "User is vegan"),
        ("my sister Sarah moved to Portland", "User's sister Sarah lives in Portland"),
        ("I'm a pediatric nurse.", "User is a pediatric nurse"),
        ("I don't eat pork.", "User does not eat pork"),
        ("I grew up in Lagos.", "User grew up in Lagos"),
        ("We moved to Leeds about four years ago.", None),
        ("I moved to Leeds about four years ago.", "User lives in Leeds"),
        ("My favorite band is Radiohead.", "User's favorite band is Radiohead"),
        ("I usually swim before work.", "User usually swims before work"),
        ("I've been playing the cello for twenty years.", "User plays the cello"),
        ("My daughter Ana just turned nine.", "User's daughter Ana is nine"),
        ("I bring my lunch to work every day.", "User brings their lunch to work every day"),
        ("I come from a big family.", "User comes from a big family"),
        ("Hi, I'm Tove.", "User's name is Tove"),
    ],
)
def test_first_person_statements_become_third_person_facts(said: str, fact: str | None) -> None:
    assert facts(said) == ([fact] if fact else [])


@pytest.mark.parametrize(
    "said",
    [
        "I went to a concert last night.",  # a one-off event
        "I'm so tired today.",  # a passing state
        "I love that!",  # small talk
        "Oh, I love your jacket.",
        "I think I might be allergic to shellfish.",  # a hedged guess
        "Probably I'll move to Berlin.",
        "Speaker 2 is a dentist and I am too.",  # a speaker label
        "The Pacific is the largest ocean.",  # common knowledge
        "Jim from accounts plays golf every Sunday.",  # another person, unrelated
        "Do you like sushi?",  # a question
        "I've attached the agenda.",  # an email's event
        "I need to renew my passport.",  # a task: an action item, not a fact
        "I have a dentist appointment at 4.",  # an event
        "I'm happy to help.",  # small talk
        "My mom called yesterday.",  # dated relative to now
        "I still have his old watch.",  # someone unnamed: does not stand alone
        "I am writing to ask about the invoice.",  # an email's phrases
        "I am out of office until Monday.",
        "I have two concerns about the contract.",
        "I am cautiously optimistic.",
        "I am the point of contact for this account.",  # "this": meaningless later
    ],
)
def test_what_omi_rejects_is_not_a_fact(said: str) -> None:
    assert facts(said) == []


def test_tasks_become_action_items_with_due_dates_resolved_against_the_start() -> None:
    found = extract_offline(
        [
            Turn(
                "I need to call the dentist tomorrow. Remind me to pick up the dry cleaning "
                "on Friday. I have to renew my passport before March 15th. I should water "
                "the plants."
            )
        ],
        STARTED,
    )
    assert found.facts == []
    assert found.action_items == [
        ActionItemDraft("Call the dentist", _us(2026, 3, 5)),
        ActionItemDraft("Pick up the dry cleaning", _us(2026, 3, 6)),
        ActionItemDraft("Renew my passport", _us(2026, 3, 15)),
        ActionItemDraft("Water the plants", None),
    ]


@pytest.mark.parametrize(
    "said",
    [
        "I'll let you know.",
        "I'll think about it.",
        "I have to say, that was fun.",
        "I must admit it is good.",
        "We should hang out sometime.",
        "I'm gonna head out.",
        "I will never forget that day.",
        "I'll be there.",
    ],
)
def test_phrases_of_conversation_are_not_tasks(said: str) -> None:
    assert extract_offline([Turn(said)], STARTED) == extract_offline([], STARTED)


def test_two_tasks_joined_by_and_are_two_action_items() -> None:
    said = "Note to self: renew the car insurance before March 20 and call mum on Sunday."
    assert extract_offline([Turn(said)], STARTED).action_items == [
        ActionItemDraft("Renew the car insurance", _us(2026, 3, 20)),
        ActionItemDraft("Call mum", _us(2026, 3, 8)),
    ]


def test_what_a_friend_says_about_the_user_counts_when_the_user_agrees() -> None:
    friend, user = "SPEAKER_01", "SPEAKER_00"
    agreed = [
        Turn("So your sister Sarah moved to Portland, right?", friend, False),
        Turn("Yeah, she loves it there.", user, True),
    ]
    assert extract_offline(agreed, STARTED).facts == ["User's sister Sarah lives in Portland"]
    denied = [agreed[0], Turn("No, that's my cousin.", user, True)]
    assert extract_offline(denied, STARTED).facts == []
    # the friend's own first-person statements are about the friend
    own = [Turn("I'm a vegetarian.", friend, False), Turn("Cool.", user, True)]
    assert extract_offline(own, STARTED).facts == []


@pytest.mark.parametrize(
    ("asked", "answer", "fact"),
    [
        ("Where do you work these days?", "A bakery on Elm Street.", None),  # dated question
        ("Where do you work?", "Mostly the Boeing plant.", "User works at the Boeing plant"),
        ("So where are you from?", "Ghana, originally.", "User is from Ghana, originally"),
        (
            "What are you allergic to?",
            "Shellfish and latex.",
            "User is allergic to Shellfish and latex",
        ),
        ("What's your favorite food?", "Pho.", "User's favorite food is Pho"),
        ("How old are you?", "Thirty-one.", "User is Thirty-one"),
        ("Where do you live?", "No idea, ha.", None),
        ("Where do you live?", "Why do you ask?", None),
    ],
)
def test_a_short_answer_to_a_question_about_the_user(
    asked: str, answer: str, fact: str | None
) -> None:
    turns = [Turn(asked, "SPEAKER_01", False), Turn(answer, "SPEAKER_00", True)]
    assert extract_offline(turns, STARTED).facts == ([fact] if fact else [])


def test_a_request_to_the_user_is_an_action_item_unless_declined() -> None:
    friend, user = "SPEAKER_01", "SPEAKER_00"
    asked = [
        Turn("Can you send me the photos by Friday?", friend, False),
        Turn("Sure.", user, True),
    ]
    assert extract_offline(asked, STARTED).action_items == [
        ActionItemDraft("Send them the photos", _us(2026, 3, 6))
    ]
    declined = [asked[0], Turn("Sorry, I can't this week.", user, True)]
    assert extract_offline(declined, STARTED).action_items == []


def test_a_clause_continued_without_its_subject_gets_it_back() -> None:
    assert facts("I was born in Nairobi but grew up in Toronto.") == [
        "User was born in Nairobi",
        "User grew up in Toronto",
    ]


def test_fillers_and_stutters_do_not_hide_a_fact() -> None:
    assert facts("Um, so, I I work as a, uh, welder in Gdansk.") == [
        "User works as a welder in Gdansk"
    ]


def test_hostile_input_never_raises_and_facts_stay_short() -> None:
    for text in ["", " \n\t", "\x00" * 100, "I am " + "very " * 300 + "tall.", "🙂" * 1000, "I"]:
        found = extract_offline([Turn(text)], STARTED)
        assert all(len(fact) <= MAX_FACT_CHARS for fact in found.facts)
    assert facts("I am " + "x" * 600) == []


def test_a_5000_character_transcript_is_deterministic() -> None:
    """(Its speed is measured by bench/extraction.py, not asserted here.)"""
    turns = long_transcript()
    assert sum(len(turn.text) for turn in turns) >= 5000
    first = extract_offline(turns, STARTED)
    assert first == extract_offline(turns, STARTED)
    assert "User is vegan" in first.facts
