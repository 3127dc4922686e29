"""Write the labelled near-duplicate pairs: `python bench/dedup_data.py`.

Writes `data/dedup/pairs.jsonl`: one `{"id", "a", "b", "duplicate", "kind", "split"}`
per line. `duplicate` is true when `b` states the same fact as `a` (so storing `b`
would add nothing), false when it states a different fact, however alike the words.
Every pair is written here by hand or from the hand-written templates below; the
split (dev for choosing the rule's thresholds, test for reporting) alternates within
each kind so both halves hold every kind.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "data" / "dedup" / "pairs.jsonl"

# (a, b, kind) -- the same fact
DUPLICATES = [
    # case, white space, punctuation
    ("User is vegetarian", "user is vegetarian.", "format"),
    ("User's sister Sarah lives in Portland", "User's sister Sarah lives in Portland!", "format"),
    ("User likes cats", "  User   likes cats  ", "format"),
    ("User drives a Subaru Outback", "USER DRIVES A SUBARU OUTBACK", "format"),
    ("User's favorite color is green", "User's favorite color is green...", "format"),
    ("User works at Initech", "User works at Initech;", "format"),
    ("User is allergic to peanuts", "User is allergic to peanuts .", "format"),
    ("User plays tennis on weekends", "User plays tennis, on weekends", "format"),
    ("User's dog Max is a border collie", "User's dog, Max, is a border collie.", "format"),
    ("User was born on March 14, 1990", "User was born on March 14 1990", "format"),
    # reporting frames and filler words
    ("User is vegetarian", "User mentioned that they are vegetarian", "frame"),
    ("User loves Thai food", "User really loves Thai food", "frame"),
    ("User hates cilantro", "User said that they really hate cilantro", "frame"),
    ("User works as a nurse", "User mentioned that they work as a nurse", "frame"),
    ("User is afraid of heights", "User is very afraid of heights", "frame"),
    (
        "User prefers texting over phone calls",
        "User stated that they prefer texting over phone calls",
        "frame",
    ),
    ("User runs five miles most mornings", "The user runs five miles most mornings", "frame"),
    (
        "User has a golden retriever named Biscuit",
        "User has a golden retriever named Biscuit, actually",
        "frame",
    ),
    ("User is learning Japanese", "User is currently learning Japanese", "frame"),
    ("User enjoys woodworking", "User really enjoys woodworking", "frame"),
    ("User lives in Denver", "User told the assistant that they live in Denver", "frame"),
    ("User is an introvert", "User is definitely an introvert", "frame"),
    # word order, same entities in the same order
    ("User's sister Sarah lives in Portland", "Sarah, User's sister, lives in Portland", "order"),
    ("User's wife Emma is a teacher", "Emma, User's wife, is a teacher", "order"),
    ("User's manager is Priya", "Priya is User's manager", "order"),
    ("User's best friend is Marcus", "Marcus is User's best friend", "order"),
    ("On weekends User plays tennis", "User plays tennis on weekends", "order"),
    ("Every morning User drinks black coffee", "User drinks black coffee every morning", "order"),
    ("User's cat is named Mochi", "Mochi is the name of User's cat", "order"),
    ("User's brother Tom works as a pilot", "Tom, User's brother, works as a pilot", "order"),
    # equivalent spellings, number words, contractions, inflection
    ("User's favourite colour is blue", "User's favorite color is blue", "spelling"),
    ("User has two kids", "User has 2 kids", "spelling"),
    ("User doesn't eat pork", "User does not eat pork", "spelling"),
    ("User's mom lives in Ohio", "User's mother lives in Ohio", "spelling"),
    ("User's dad is a retired electrician", "User's father is a retired electrician", "spelling"),
    ("User watches a lot of TV", "User watches a lot of television", "spelling"),
    ("User can't stand horror movies", "User cannot stand horror movies", "spelling"),
    ("User has three cats", "User has 3 cats", "spelling"),
    ("User is vegetarian", "User is a vegetarian", "spelling"),
    ("User wakes up at 5am", "User wakes up at 5 am", "spelling"),
    ("User's e-mail provider is Fastmail", "User's email provider is Fastmail", "spelling"),
    ("User works as a nurse", "User works as nurse", "spelling"),
    ("User likes hiking", "User likes to hike", "spelling"),
    (
        "User's kids go to Lincoln Elementary",
        "User's children go to Lincoln Elementary",
        "spelling",
    ),
    ("User's husband is named David", "User's husband's name is David", "spelling"),
    # paraphrases of the same fact
    ("User has a dog named Max", "User's dog is named Max", "paraphrase"),
    (
        "User is a software engineer at Hooli",
        "User works as a software engineer at Hooli",
        "paraphrase",
    ),
    ("User loves hiking", "User loves going hiking", "paraphrase"),
    ("User's birthday is March 14", "User's birthday is on March 14", "paraphrase"),
    ("User lives in Seattle", "User is living in Seattle", "paraphrase"),
    ("User has a cat called Luna", "User has a cat named Luna", "paraphrase"),
    ("User drinks coffee every morning", "User has coffee every morning", "paraphrase"),
    ("User is married to Emma", "User's wife is Emma", "paraphrase"),
    ("User works from home on Fridays", "User works remotely on Fridays", "paraphrase"),
    ("User plays the guitar", "User plays guitar", "paraphrase"),
]

# (a, b, kind) -- a different fact
DIFFERENT = [
    # the relation changes
    ("User's sister lives in Portland", "User's brother lives in Portland", "relation"),
    ("User's sister Sarah lives in Portland", "User's brother Sarah lives in Portland", "relation"),
    ("User's mother is a nurse", "User's father is a nurse", "relation"),
    ("User's wife is a teacher", "User's husband is a teacher", "relation"),
    ("User's son plays soccer", "User's daughter plays soccer", "relation"),
    ("User's older sister lives in Denver", "User's younger sister lives in Denver", "relation"),
    ("User's manager is Priya", "User's coworker is Priya", "relation"),
    ("User's best friend is Marcus", "User's boss is Marcus", "relation"),
    ("User's aunt lives in Lyon", "User's uncle lives in Lyon", "relation"),
    ("User's grandmother was a pilot", "User's grandfather was a pilot", "relation"),
    ("User's cat is named Mochi", "User's dog is named Mochi", "relation"),
    ("User's girlfriend is a dentist", "User's ex-girlfriend is a dentist", "relation"),
    # negation and opposite attitudes
    ("User likes cats", "User dislikes cats", "negation"),
    ("User likes cats", "User doesn't like cats", "negation"),
    ("User loves spicy food", "User hates spicy food", "negation"),
    ("User drinks alcohol", "User doesn't drink alcohol", "negation"),
    ("User is vegetarian", "User is not vegetarian", "negation"),
    ("User eats meat", "User never eats meat", "negation"),
    ("User enjoys crowds", "User avoids crowds", "negation"),
    ("User is a morning person", "User is not a morning person", "negation"),
    ("User wants kids", "User doesn't want kids", "negation"),
    ("User likes flying", "User is afraid of flying", "negation"),
    ("User prefers texting over phone calls", "User prefers phone calls over texting", "negation"),
    ("User prefers coffee to tea", "User prefers tea to coffee", "negation"),
    ("User can swim", "User can't swim", "negation"),
    ("User has a car", "User has no car", "negation"),
    ("User smokes", "User quit smoking", "negation"),
    ("User is allergic to cats", "User is not allergic to cats", "negation"),
    # numbers, dates, times
    ("User has two kids", "User has three kids", "number"),
    ("User has 2 kids", "User has 3 kids", "number"),
    ("User was born in 1990", "User was born in 1991", "number"),
    ("User's gym locker is number 317", "User's gym locker is number 318", "number"),
    ("User wakes up at 5 am", "User wakes up at 6 am", "number"),
    ("User's birthday is March 14", "User's birthday is March 15", "number"),
    ("User's birthday is March 14", "User's birthday is April 14", "number"),
    ("User ran the Boston Marathon in 2019", "User ran the Boston Marathon in 2021", "number"),
    ("User's daughter is seven years old", "User's daughter is eight years old", "number"),
    ("User runs five miles most mornings", "User runs ten miles most mornings", "number"),
    ("User's desk extension is 2290", "User's desk extension is 2209", "number"),
    ("User's shoe size is 10", "User's shoe size is 10.5", "number"),
    ("User's anniversary is June 2", "User's anniversary is June 20", "number"),
    ("User moved to Austin in 2021", "User moved to Austin in 2012", "number"),
    ("User works out three times a week", "User works out four times a week", "number"),
    ("User's apartment is unit 4B", "User's apartment is unit 4C", "number"),
    # names and places
    ("User's sister Sarah lives in Portland", "User's sister Emma lives in Portland", "name"),
    ("User's sister Sarah lives in Portland", "User's sister Sarah lives in Denver", "name"),
    ("User has a dog named Max", "User has a dog named Luna", "name"),
    ("User works at Initech", "User works at Globex", "name"),
    ("User's manager is Priya", "User's manager is Priyanka", "name"),
    ("User grew up in Ohio", "User grew up in Iowa", "name"),
    ("User's favorite band is Radiohead", "User's favorite band is Metallica", "name"),
    ("User drives a Subaru Outback", "User drives a Subaru Forester", "name"),
    ("User's dentist is Dr. Okonkwo", "User's doctor is Dr. Okonkwo", "name"),
    ("User studied at Purdue", "User taught at Purdue", "name"),
    ("User is married to Emma", "User is married to Emily", "name"),
    ("User's son is named Theo", "User's son is named Leo", "name"),
    ("User's favorite book is Dune", "User's favorite movie is Dune", "name"),
    ("User moved from Boston to Denver", "User moved from Denver to Boston", "name"),
    ("User lives in Portland, Oregon", "User lives in Portland, Maine", "name"),
    # a different object, activity or attribute
    ("User is allergic to peanuts", "User is allergic to shellfish", "object"),
    ("User plays tennis on weekends", "User plays golf on weekends", "object"),
    ("User loves Thai food", "User loves Indian food", "object"),
    ("User speaks Spanish", "User speaks Portuguese", "object"),
    ("User's favorite color is green", "User's favorite color is blue", "object"),
    ("User drinks black coffee", "User drinks black tea", "object"),
    ("User plays the guitar", "User plays the piano", "object"),
    ("User is a nurse", "User is a doctor", "object"),
    ("User has type 1 diabetes", "User has type 2 diabetes", "object"),
    ("User takes Zyrtec for allergies", "User takes Claritin for allergies", "object"),
    ("User reads science fiction", "User writes science fiction", "object"),
    ("User is learning Japanese", "User is learning Korean", "object"),
    ("User's favorite season is autumn", "User's favorite season is spring", "object"),
    ("User prefers aisle seats", "User prefers window seats", "object"),
    ("User works night shifts", "User works day shifts", "object"),
    ("User has a cat", "User has a dog", "object"),
    ("User knits scarves", "User knits sweaters", "object"),
    ("User is on a keto diet", "User is on a vegan diet", "object"),
    # more, less, or a change over time
    ("User likes cats", "User likes cats and dogs", "scope"),
    ("User speaks Spanish", "User speaks Spanish and French", "scope"),
    ("User is learning Japanese", "User speaks Japanese fluently", "scope"),
    ("User wants to learn to surf", "User learned to surf", "scope"),
    ("User used to smoke", "User smokes", "scope"),
    ("User lives in Denver", "User used to live in Denver", "scope"),
    ("User is engaged to Emma", "User is married to Emma", "scope"),
    ("User plays tennis", "User plays tennis competitively", "scope"),
    ("User has a dog", "User has two dogs", "scope"),
    ("User is allergic to nuts", "User is allergic to nuts and eggs", "scope"),
    ("User runs marathons", "User ran one marathon", "scope"),
    ("User wants to visit Japan", "User visited Japan", "scope"),
    # the same topic, a different fact
    ("User is vegetarian", "User is vegan", "topic"),
    ("User's sister lives in Portland", "User's sister works in Portland", "topic"),
    ("User likes jazz", "User plays jazz", "topic"),
    ("User works at Initech", "User's wife works at Initech", "topic"),
    (
        "User has a golden retriever named Biscuit",
        "User's neighbor has a golden retriever named Biscuit",
        "topic",
    ),
    ("User's manager is demanding", "User's manager is supportive", "topic"),
    ("User's daughter takes piano lessons", "User's daughter gives piano lessons", "topic"),
    ("User bought a house", "User sold a house", "topic"),
]


def write_pairs(
    out: Path, groups: Sequence[tuple[bool, Sequence[tuple[str, str, str]]]], prefix: str
) -> int:
    """Write `(duplicate, [(a, b, kind), ...])` groups as labelled pairs to `out`, ids
    `prefix` + a number, the split alternating within each (label, kind)."""
    rows = []
    counts: dict[tuple[bool, str], int] = {}
    for duplicate, pairs in groups:
        for a, b, kind in pairs:
            n = counts.get((duplicate, kind), 0)
            counts[(duplicate, kind)] = n + 1
            rows.append(
                {
                    "id": f"{prefix}{len(rows):03d}",
                    "a": a,
                    "b": b,
                    "duplicate": duplicate,
                    "kind": kind,
                    "split": "dev" if n % 2 == 0 else "test",
                }
            )
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    dup = sum(bool(r["duplicate"]) for r in rows)
    print(f"{len(rows)} pairs: {dup} duplicates, {len(rows) - dup} different facts")
    return 0


def main() -> int:
    return write_pairs(OUT, [(True, DUPLICATES), (False, DIFFERENT)], "p")


if __name__ == "__main__":
    raise SystemExit(main())
