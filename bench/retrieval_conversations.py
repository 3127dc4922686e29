"""Write the conversation-turn retrieval set: `python bench/retrieval_conversations.py`.

Reads the templates and vocabulary in `data/retrieval_conversations/templates.json` and
writes `memories.jsonl` and `queries.jsonl` next to them (see that directory's
README.md), with a fixed seed: the same files every time, nothing downloaded.

Each "user" is one long conversation between two speakers over several dated sessions,
stored turn by turn: a memory is one turn, `"<Speaker> (<date>): <words>"`. Facts come
up in two shapes: said in one turn ("I finally adopted a beagle last weekend!"), or
asked and answered over two ("Did you end up getting that pet?" / "Yes! A beagle."),
where the answer needs both turns. Many facts are told by both speakers with other
values (both have a sister, both ran a race), so a question about one speaker has a
near-identical turn of the other as its strongest distractor. Around them: greetings,
small talk, reactions naming the other speaker, and turns that mention a topic without
stating anything. Questions name the speaker they are about (either one) and are of
four kinds: `single` (one evidence turn, the other speaker has no such fact),
`confusable` (one evidence turn, the other speaker told the same kind of fact),
`two-turn` (the question and its answer) and `date` (names the session date).

Conversations c00-c07 are the dev split, c08-c23 the test split.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
from pathlib import Path
from typing import Any

from retrieval_data import write_set

SEED = 20261202
CONVERSATIONS = 24
DEV_CONVERSATIONS = 8
SESSIONS = (4, 6)
TOPICS_PER_CONVERSATION = (11, 15)
BOTH_SPEAKERS = 0.45  # share of topics that both speakers tell a fact of
TWO_TURN = 0.3  # share of facts told as a question and its answer
DATE_QUESTION = 0.25  # share of facts that get a second question naming the date
FILLERS_PER_SESSION = (8, 14)
OUT = Path(__file__).resolve().parent.parent / "data" / "retrieval_conversations"
MONTHS = "January February March April May June July August September October November December"


def day(date: dt.date) -> str:
    return f"{date.day} {MONTHS.split()[date.month - 1]} {date.year}"


def make_conversation(index: int, rng: random.Random, t: dict[str, Any]) -> tuple[list, list]:
    conv = f"c{index:02d}"
    a, b = rng.sample(t["names"], 2)
    speakers = (a, b)
    other = {a: b, b: a}
    n_sessions = rng.randint(*SESSIONS)
    date = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randrange(300))
    dates = []
    for _ in range(n_sessions):
        dates.append(date)
        date += dt.timedelta(days=rng.randint(4, 25))
    topics = rng.sample(t["topics"], rng.randint(*TOPICS_PER_CONVERSATION))
    # facts: (speaker, topic, value, session, two_turn, confusable)
    facts = []
    for topic in topics:
        tellers = list(speakers) if rng.random() < BOTH_SPEAKERS else [rng.choice(speakers)]
        values = rng.sample(topic["values"], len(tellers))
        for teller, value in zip(tellers, values, strict=True):
            facts.append(
                {
                    "speaker": teller,
                    "topic": topic,
                    "value": value,
                    "session": rng.randrange(n_sessions),
                    "two_turn": rng.random() < TWO_TURN,
                    "confusable": len(tellers) == 2,
                }
            )
    rows: list[dict[str, Any]] = []
    evidence: list[list[str]] = [[] for _ in facts]

    def say(session: int, speaker: str, text: str) -> str:
        mid = f"{conv}-s{session}-t{sum(1 for r in rows if r['session'] == session):03d}"
        content = f"{speaker} ({day(dates[session])}): {text.format(o=other[speaker])}"
        rows.append({"id": mid, "user": conv, "session": session, "content": content})
        return mid

    for s in range(n_sessions):
        first = rng.choice(speakers)
        events: list[list[tuple[str, str, int | None]]] = []
        for i, f in enumerate(facts):
            if f["session"] != s:
                continue
            teller, topic, v = f["speaker"], f["topic"], f["value"]
            if f["two_turn"]:
                turns = [
                    (other[teller], rng.choice(topic["prompt"]), i),
                    (teller, rng.choice(topic["answer"]).replace("{v}", v), i),
                ]
            else:
                turns = [(teller, rng.choice(topic["say"]).replace("{v}", v), i)]
            turns.append((other[teller], rng.choice(t["reactions"]), None))
            events.append(turns)
        for _ in range(rng.randint(*FILLERS_PER_SESSION)):
            speaker = rng.choice(speakers)
            if rng.random() < 0.2:  # a topic mentioned without a fact
                events.append([(speaker, rng.choice(t["topics"])["muse"], None)])
            else:
                events.append([(speaker, rng.choice(t["fillers"]), None)])
        rng.shuffle(events)
        say(s, first, rng.choice(t["greetings"]))
        say(s, other[first], rng.choice(t["replies"]))
        for turns in events:
            for speaker, text, fact in turns:
                mid = say(s, speaker, text)
                if fact is not None:
                    evidence[fact].append(mid)
        say(s, rng.choice(speakers), rng.choice(t["closings"]))

    queries: list[dict[str, Any]] = []
    for i, f in enumerate(facts):
        n, o, topic = f["speaker"], other[f["speaker"]], f["topic"]
        kind = "two-turn" if f["two_turn"] else "confusable" if f["confusable"] else "single"
        text = rng.choice(topic["ask"]).format(n=n, o=o)
        queries.append({"kind": kind, "query": text, "relevant": evidence[i]})
        if rng.random() < DATE_QUESTION:
            when = day(dates[f["session"]])
            text = f"What did {n} say about {topic['about']} on {when}?"
            queries.append({"kind": "date", "query": text, "relevant": evidence[i]})
    split = "dev" if index < DEV_CONVERSATIONS else "test"
    query_rows = [
        {"id": f"{conv}-q{j:02d}", "user": conv, "split": split, **q} for j, q in enumerate(queries)
    ]
    mem_rows = [{"id": r["id"], "user": conv, "content": r["content"], "tags": []} for r in rows]
    return mem_rows, query_rows


def main() -> int:
    templates = json.loads((OUT / "templates.json").read_text(encoding="utf-8"))
    rng = random.Random(SEED)
    memories, queries = [], []
    for i in range(CONVERSATIONS):
        m, q = make_conversation(i, rng, templates)
        memories += m
        queries += q
    write_set(OUT, memories, queries)
    kinds: dict[str, int] = {}
    for q in queries:
        kinds[q["kind"]] = kinds.get(q["kind"], 0) + 1
    print(
        f"{len(memories)} turns, {len(queries)} questions "
        f"({sum(q['split'] == 'dev' for q in queries)} dev, "
        f"{sum(q['split'] == 'test' for q in queries)} test; {kinds})",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
