"""Write the adversarial dedup pairs: `python bench/dedup_adversarial.py`.

Writes `data/dedup/adversarial.jsonl`, in the format of `pairs.jsonl` (see
`bench/dedup_data.py`): `{"id", "a", "b", "duplicate", "kind", "split"}`. These are the
pairs that an order-blind or symbol-blind rule merges although they state different
facts: the same words with the roles reversed ("Anna is Bob's mother" / "Bob is Anna's
mother"), another relation word around the same content words ("lives with" / "lives
by"), a negation, another number, amount, date or unit, another person, and contents
of symbols only. A few true duplicates of the same shapes (the roles kept) are there
too, so that a rule cannot score by refusing every pair of a kind. Every pair comes
from the hand-written templates below; the split alternates within each kind.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dedup_data import write_pairs  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "data" / "dedup" / "adversarial.jsonl"

PEOPLE = [
    ("Anna", "Bob"),
    ("Alice", "User"),
    ("Priya", "Marcus"),
    ("User", "Tom"),
    ("Emma", "David"),
    ("Sarah", "User"),
]
RELATIONS = ["mother", "father", "boss", "sister", "teacher", "landlord", "doctor", "tenant"]
VERBS = [
    "owes {y} $50",
    "loves {y}",
    "hired {y}",
    "teaches {y} piano",
    "follows {y} on Instagram",
    "pays {y} rent",
    "beat {y} at chess",
    "texts {y} every day",
    "is older than {y}",
    "lent {y} 200 dollars",
    "works for {y}",
    "reports to {y}",
]

# (a, b, kind): a different fact, whatever a bag of words says
DIFFERENT: list[tuple[str, str, str]] = []
for n, (x, y) in enumerate(PEOPLE):
    for relation in RELATIONS[n % 4 :: 2][:3]:
        DIFFERENT.append((f"{x} is {y}'s {relation}", f"{y} is {x}'s {relation}", "possessive"))
    DIFFERENT.append((f"{x}'s {RELATIONS[n]} is {y}", f"{y}'s {RELATIONS[n]} is {x}", "possessive"))
    DIFFERENT.append(
        (
            f"{x} is the {RELATIONS[n + 1]} of {y}",
            f"{y} is the {RELATIONS[n + 1]} of {x}",
            "possessive",
        )
    )
for n, (x, y) in enumerate(PEOPLE + [(b, a) for a, b in PEOPLE]):
    for verb in VERBS[(n + 3 * (n >= len(PEOPLE))) % 6 :: 6]:
        DIFFERENT.append((f"{x} {verb.format(y=y)}", f"{y} {verb.format(y=x)}", "object"))
DIFFERENT += [
    # another relation word around the same content words
    ("User lives with Anna", "User lives by Anna", "relation word"),
    ("User works with Priya", "User works for Priya", "relation word"),
    ("User sits next to Tom", "User sits behind Tom", "relation word"),
    ("User flew to Boston", "User flew from Boston", "relation word"),
    ("User walks to work", "User walks from work", "relation word"),
    ("User's cat sleeps on the bed", "User's cat sleeps under the bed", "relation word"),
    ("User goes running before work", "User goes running after work", "relation word"),
    ("User lives above the bakery", "User lives below the bakery", "relation word"),
    ("User studied with Marcus", "User studied under Marcus", "relation word"),
    ("User voted for the proposal", "User voted against the proposal", "relation word"),
    ("User plays chess with Emma", "User plays chess against Emma", "relation word"),
    ("User lives near the station", "User lives at the station", "relation word"),
    ("User is in Denver", "User is from Denver", "relation word"),
    ("User's office is inside the mall", "User's office is outside the mall", "relation word"),
    ("User travels by train", "User travels with a train set", "relation word"),
    ("User cooks for Anna", "User cooks with Anna", "relation word"),
    ("User is at the gym", "User is near the gym", "relation word"),
    ("User shops at Target", "User shops for Target", "relation word"),
    ("User parks in the garage", "User parks behind the garage", "relation word"),
    ("User swims with sharks", "User swims without sharks", "relation word"),
    # likes / dislikes and other opposite verbs
    ("User likes jazz", "User dislikes jazz", "opposite"),
    ("User trusts Marcus", "User distrusts Marcus", "opposite"),
    ("User agrees with Priya", "User disagrees with Priya", "opposite"),
    ("User loves winter", "User hates winter", "opposite"),
    ("User approves of the plan", "User disapproves of the plan", "opposite"),
    ("User is happy at work", "User is unhappy at work", "opposite"),
    ("User is able to drive", "User is unable to drive", "opposite"),
    ("User remembers Anna's birthday", "User forgets Anna's birthday", "opposite"),
    ("User accepted the offer", "User declined the offer", "opposite"),
    ("User is comfortable flying", "User is uncomfortable flying", "opposite"),
    ("User wins at poker", "User loses at poker", "opposite"),
    ("User buys organic food", "User avoids organic food", "opposite"),
    # negation
    ("User is vegetarian", "User is not vegetarian", "negation"),
    ("Anna is Bob's mother", "Anna is not Bob's mother", "negation"),
    ("User owes Alice $50", "User no longer owes Alice $50", "negation"),
    ("User drinks coffee", "User never drinks coffee", "negation"),
    ("User is married", "User isn't married", "negation"),
    ("User has a passport", "User has no passport", "negation"),
    ("User will attend the wedding", "User won't attend the wedding", "negation"),
    ("User can drive", "User cannot drive", "negation"),
    ("User eats fish", "User does not eat fish", "negation"),
    ("User smokes", "User doesn't smoke", "negation"),
    ("User was at the party", "User wasn't at the party", "negation"),
    ("User has been to Japan", "User has never been to Japan", "negation"),
    ("Tom is User's brother", "Tom is not User's brother", "negation"),
    ("User should take aspirin", "User shouldn't take aspirin", "negation"),
    # numbers, amounts and dates
    ("Alice owes User $50", "Alice owes User $500", "number"),
    ("User's flight is on 3/4/2026", "User's flight is on 4/3/2026", "number"),
    ("User's PIN hint is 1234", "User's PIN hint is 4321", "number"),
    ("User's rent is $1,500", "User's rent is $1,050", "number"),
    ("User was born on 1990-05-06", "User was born on 1990-06-05", "number"),
    ("User weighs 70 kg", "User weighs 75 kg", "number"),
    ("User has 2 cats and 3 dogs", "User has 3 cats and 2 dogs", "number"),
    ("User sleeps from 11 to 7", "User sleeps from 7 to 11", "number"),
    ("User's meeting is at 10:30", "User's meeting is at 10:03", "number"),
    ("User's score was 3-1", "User's score was 1-3", "number"),
    ("User's dose is 0.5 mg", "User's dose is 5 mg", "number"),
    ("User's room is 12B", "User's room is 21B", "number"),
    ("User saves 10% of income", "User saves 20% of income", "number"),
    ("The freezer is set to -18°C", "The freezer is set to 18°C", "number"),
    ("User's flight is at 9 am", "User's flight is at 9 pm", "number"),
    ("User's anniversary is May 1", "User's anniversary is May 11", "number"),
    # another unit or currency
    ("Alice owes User $50", "Alice owes User €50", "unit"),
    ("User runs 5 km every day", "User runs 5 miles every day", "unit"),
    ("User weighs 70 kg", "User weighs 70 lb", "unit"),
    ("User's rent is £900", "User's rent is $900", "unit"),
    ("The oven is at 200°C", "The oven is at 200°F", "unit"),
    ("User drinks 2 liters of water", "User drinks 2 cups of water", "unit"),
    ("User's commute is 30 minutes", "User's commute is 30 hours", "unit"),
    ("User's salary is ¥5,000,000", "User's salary is $5,000,000", "unit"),
    ("User is 180 cm tall", "User is 180 mm tall", "unit"),
    ("User's dose is 5 mg", "User's dose is 5 g", "unit"),
    ("User's loan is 10000 USD", "User's loan is 10000 EUR", "unit"),
    ("User's phone plan is 5 GB", "User's phone plan is 5 MB", "unit"),
    # another person
    ("Anna is vegetarian", "Bob is vegetarian", "person"),
    ("User is vegetarian", "Anna is vegetarian", "person"),
    ("User's sister is a nurse", "User is a nurse", "person"),
    ("He is her father", "She is his father", "person"),
    ("She owes him $20", "He owes her $20", "person"),
    ("User's wife likes jazz", "User likes jazz", "person"),
    ("Tom's dog is named Max", "Emma's dog is named Max", "person"),
    ("User and Anna are cousins", "User and Bob are cousins", "person"),
    ("Marcus lives in Denver", "Priya lives in Denver", "person"),
    ("User's boss is allergic to nuts", "User is allergic to nuts", "person"),
    ("My brother plays the drums", "My sister plays the drums", "person"),
    ("Dr. Lee is User's doctor", "Dr. Kim is User's doctor", "person"),
    # symbols only, or symbols that carry the fact
    ("😀", "❤️", "symbols"),
    ("👍", "👎", "symbols"),
    ("!!!", "???", "symbols"),
    ("+1", "-1", "symbols"),
    ("=)", "=(", "symbols"),
    ("→", "←", "symbols"),
    ("★★★", "★★★★★", "symbols"),
    ("🍕🍺", "🍺🍕🍔", "symbols"),
    ("User feels 😀 about the move", "User feels 😢 about the move", "symbols"),
    ("User rates the café ★★★★★", "User rates the café ★", "symbols"),
    ("∞", "∅", "symbols"),
    ("...", "---", "symbols"),
    ("User's favorite emoji is 🐱", "User's favorite emoji is 🐶", "symbols"),
    ("#1", "#2", "symbols"),
    ("User's status is ✅", "User's status is ❌", "symbols"),
    ("♥", "♦", "symbols"),
]

# (a, b, kind): the same fact in the shapes above, roles kept
DUPLICATES = [
    ("Anna is Bob's mother", "Anna is the mother of Bob", "roles kept"),
    ("Bob's mother is Anna", "Anna is Bob's mother", "roles kept"),
    ("Alice owes User $50", "alice owes user $50.", "roles kept"),
    ("User owes Alice $50", "User mentioned that they owe Alice $50", "roles kept"),
    ("Priya is Marcus's boss", "Marcus's boss is Priya", "roles kept"),
    ("Tom is User's brother", "User's brother is Tom", "roles kept"),
    ("User lives with Anna", "User lives with Anna!", "roles kept"),
    ("User works for Priya", "User really works for Priya", "roles kept"),
    ("Emma hired David", "Emma hired David.", "roles kept"),
    ("User's flight is on 3/4/2026", "User's flight is on 3/4/2026.", "roles kept"),
    ("Alice owes User $50", "Alice owes User $50!!", "roles kept"),
    ("User weighs 70 kg", "User weighs 70kg", "roles kept"),
    ("User's dog is named Max", "User has a dog named Max", "roles kept"),
    ("Enjoys hiking on weekends", "User enjoys hiking on weekends", "roles kept"),
    ("Owes Alice $50", "User owes Alice $50", "roles kept"),
    ("The oven is at 200°C", "the oven is at 200 °C", "roles kept"),
    ("😀", "😀", "symbols kept"),
    ("❤️", " ❤️ ", "symbols kept"),
    ("👍👍", "👍👍", "symbols kept"),
    ("★★★", "★★★", "symbols kept"),
    ("User feels 😀 about the move", "user feels 😀 about the move.", "symbols kept"),
    ("User's status is ✅", "User's status is ✅!", "symbols kept"),
    ("!!!", "!!!", "symbols kept"),
    ("ｶ", "カ", "symbols kept"),  # NFKC: the half-width form is the same character
]


def main() -> int:
    return write_pairs(OUT, [(False, DIFFERENT), (True, DUPLICATES)], "x")


if __name__ == "__main__":
    raise SystemExit(main())
