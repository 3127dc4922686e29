"""Realistic benchmark data: memory texts, users, keys, and `mnemo import` files.

Deterministic (seeded): the same arguments give the same file, byte for byte. Memories
look like what an assistant extracts about a person: preferences, relationships, work,
health, routines, logistics, achievements; 5-40 words each. Keys are derived from the
user name (`omi_dev_` + 32 hex characters), so the bench knows every key without
asking the server; the import file carries only their SHA-256, as `mnemo export` does.
"""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from mnemo.clock import scoring

# -- vocabularies ---------------------------------------------------------

NAMES = [
    "Sarah",
    "Tom",
    "Priya",
    "Diego",
    "Mei",
    "Jonas",
    "Amara",
    "Luca",
    "Hana",
    "Omar",
    "Chloe",
    "Mateo",
    "Ingrid",
    "Kwame",
    "Yuki",
    "Rosa",
    "Felix",
    "Leila",
    "Arjun",
    "Nora",
    "Pablo",
    "Elif",
    "Sven",
    "Zara",
    "Tariq",
    "Maya",
    "Hugo",
    "Anika",
    "Bruno",
    "Ayesha",
]
RELATIONS = [
    "sister",
    "brother",
    "mother",
    "father",
    "cousin",
    "best",
    "friend",
    "partner",
    "wife",
    "husband",
    "daughter",
    "son",
    "grandmother",
    "uncle",
    "aunt",
    "roommate",
    "manager",
    "mentor",
    "neighbour",
]
CITIES = [
    "Portland",
    "Lisbon",
    "Osaka",
    "Denver",
    "Nairobi",
    "Montreal",
    "Edinburgh",
    "Austin",
    "Melbourne",
    "Kraków",
    "Bogotá",
    "Seoul",
    "Cape Town",
    "Reykjavik",
    "Minneapolis",
    "Valencia",
    "Hanoi",
    "Tbilisi",
    "Boise",
    "Oaxaca",
]
FOODS = [
    "sushi",
    "ramen",
    "dark chocolate",
    "spicy Thai curry",
    "sourdough bread",
    "oat milk lattes",
    "pistachio ice cream",
    "grilled halloumi",
    "mango sticky rice",
    "black coffee",
    "falafel wraps",
    "mushroom risotto",
    "kimchi",
    "pho",
    "blueberry pancakes",
    "green tea",
    "tacos al pastor",
    "shakshuka",
]
DRINKS = [
    "black coffee",
    "oat milk lattes",
    "green tea",
    "matcha",
    "a green smoothie",
    "espresso",
    "chai",
]
ALLERGENS = [
    "peanuts",
    "shellfish",
    "gluten",
    "lactose",
    "tree nuts",
    "penicillin",
    "cats",
    "pollen",
    "eggs",
    "soy",
]
JOBS = [
    "software engineer",
    "nurse",
    "high school teacher",
    "product manager",
    "data analyst",
    "carpenter",
    "graphic designer",
    "veterinarian",
    "civil engineer",
    "pharmacist",
    "UX researcher",
    "paramedic",
    "accountant",
    "sous chef",
    "marine biologist",
    "architect",
    "sales director",
    "physiotherapist",
]
COMPANIES = [
    "Acme",
    "a small design studio",
    "a hospital in the city",
    "a fintech startup",
    "the city council",
    "a logistics company",
    "a local bakery",
    "a renewable energy firm",
    "a university lab",
    "a game studio",
    "a law firm",
    "an airline",
    "a public library",
    "a climbing gym",
]
HOBBIES = [
    "bouldering",
    "sourdough baking",
    "watercolour painting",
    "trail running",
    "chess",
    "birdwatching",
    "woodworking",
    "salsa dancing",
    "film photography",
    "gardening",
    "playing the cello",
    "knitting",
    "surfing",
    "board games",
    "pottery",
    "cycling",
    "Japanese calligraphy",
    "sailing",
    "fly fishing",
    "yoga",
]
MUSIC = [
    "jazz",
    "Radiohead",
    "lo-fi beats",
    "Taylor Swift",
    "Bach cello suites",
    "K-pop",
    "bossa nova",
    "90s hip hop",
    "Fleetwood Mac",
    "film soundtracks",
    "Afrobeat",
    "indie folk",
    "techno",
    "opera",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
TIMES = ["6am", "6:30am", "7am", "8am", "noon", "5pm", "6pm", "7:30pm", "9pm", "10pm"]
FEATS = [
    "ran the Boston Marathon",
    "climbed Kilimanjaro",
    "swam across Lake Geneva",
    "hiked the Appalachian Trail end to end",
    "won a regional chess tournament",
    "published a children's book",
    "cycled from Paris to Rome",
    "learned to fly a glider",
    "built a cabin by hand",
    "played cello at Carnegie Hall",
    "dived the Great Barrier Reef",
    "summited Mount Rainier",
    "finished an Ironman triathlon",
    "backpacked across Patagonia",
    "raised money for a shelter by walking 500 miles",
    "once met the Dalai Lama",
    "appeared on a TV quiz show",
    "restored a 1967 Mustang",
    "speaks five languages fluently",
]
PETS = [
    "a golden retriever named Biscuit",
    "two cats, Miso and Tofu",
    "a rescue greyhound called Pip",
    "a parrot that says good morning",
    "a bearded dragon named Spike",
    "an old beagle named Max",
    "a tank of neon tetras",
    "a border collie called Juno",
]
APPS = [
    "Notion",
    "Google Calendar",
    "Todoist",
    "Obsidian",
    "Slack",
    "Things",
    "Apple Notes",
    "Trello",
    "Linear",
]
YEARS = [str(y) for y in range(1998, 2025)]
ADVERBS = [
    "usually",
    "almost always",
    "often",
    "sometimes",
    "on most weekdays",
    "every other week",
    "whenever possible",
]
TAIL_CLAUSES = (
    "and mentioned it several times this month",
    "which came up while planning the weekend",
    "according to a conversation about travel plans",
    "and wants the assistant to remember this",
    "since moving to a new apartment last year",
    "especially when the weather is bad",
    "though this may change after the new job starts",
    "and gets annoyed when people forget it",
    "because a doctor recommended it last spring",
    "which matters when booking restaurants or trips",
)

TEMPLATES: tuple[tuple[str, str], ...] = (
    ("system", "User's {rel} {name} lives in {city}"),
    ("system", "User is allergic to {allergen}"),
    ("system", "User works as a {job} at {company}"),
    ("system", "User prefers {food} and {adv} orders it on {day}s"),
    ("system", "User is vegetarian and avoids {food2} at restaurants"),
    ("system", "User goes to the gym at {time} on {day}s and {day2}s"),
    ("system", "User listens to {music} while working"),
    ("system", "User's {rel} {name} has a birthday in {month}"),
    ("system", "User keeps their to-do list in {app} and plans the week on {day}"),
    ("system", "User has {pet}"),
    ("system", "User prefers window seats on flights and hates early departures"),
    ("system", "User is learning {hobby} and practises {adv}"),
    ("system", "User moved to {city} in {year} for work"),
    ("system", "User's manager is {name}, who prefers short written updates"),
    ("system", "User takes the {time} train and reads on the commute"),
    ("system", "User drinks {drink} every morning before checking email"),
    ("system", "User does not want meetings scheduled before {time}"),
    ("system", "User's partner {name} is a {job}"),
    ("interesting", "User {feat} in {year}"),
    ("interesting", "User {feat} with their {rel} {name}"),
    ("interesting", "User once lived in {city} for a year and still speaks the local slang"),
    ("interesting", "User taught themselves {hobby} during a winter in {city}"),
    ("interesting", "User's grandfather was a {job} who sailed around the world twice"),
    ("interesting", "User collects vintage maps of {city} and owns one from {year}"),
    ("interesting", "User met their {rel} {name} at a {music} concert in {city}"),
)
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
TAGS = ("family", "food", "health", "work", "travel", "music", "routine", "pets", "hobby")


def _fill(template: str, rnd: random.Random) -> str:
    values = {
        "rel": rnd.choice(RELATIONS),
        "name": rnd.choice(NAMES),
        "city": rnd.choice(CITIES),
        "allergen": rnd.choice(ALLERGENS),
        "job": rnd.choice(JOBS),
        "company": rnd.choice(COMPANIES),
        "food": rnd.choice(FOODS),
        "food2": rnd.choice(FOODS),
        "drink": rnd.choice(DRINKS),
        "adv": rnd.choice(ADVERBS),
        "day": rnd.choice(DAYS),
        "day2": rnd.choice(DAYS),
        "time": rnd.choice(TIMES),
        "music": rnd.choice(MUSIC),
        "month": rnd.choice(MONTHS),
        "app": rnd.choice(APPS),
        "pet": rnd.choice(PETS),
        "hobby": rnd.choice(HOBBIES),
        "year": rnd.choice(YEARS),
        "feat": rnd.choice(FEATS),
    }
    return template.format(**values)


def memory_text(rnd: random.Random) -> tuple[str, str]:
    """(content, category): one realistic memory of 5-40 words."""
    category, template = rnd.choice(TEMPLATES)
    text = _fill(template, rnd)
    roll = rnd.random()
    if roll < 0.35:  # some memories carry context, some are long
        text += ", " + rnd.choice(TAIL_CLAUSES)
    if roll < 0.08:
        text += "; also, " + _fill(rnd.choice(TEMPLATES)[1], rnd).replace("User", "they", 1)
    words = text.split()
    if len(words) > 40:
        text = " ".join(words[:40])
    return text, category


def key_for(user: str) -> str:
    """The bench's deterministic API key of a user."""
    return "omi_dev_" + hashlib.sha256(f"mnemo-bench:{user}".encode()).hexdigest()[:32]


def _uuid7(ms: int, rnd: random.Random) -> str:
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76 | rnd.getrandbits(12) << 64 | 0b10 << 62 | rnd.getrandbits(62)
    return str(uuid.UUID(int=value))


def _rfc3339(us: int) -> str:
    return datetime.fromtimestamp(us / 1e6, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_START_US = 1_640_995_200_000_000  # 2022-01-01
_SPAN_US = 3 * 365 * 86_400 * 1_000_000


def memory_record(user: str, rnd: random.Random) -> dict[str, Any]:
    """One `kind: memory` line of an import file, every field filled in."""
    content, category = memory_text(rnd)
    manual = rnd.random() < 0.3
    if manual and rnd.random() < 0.3:
        category = "manual"
    elif rnd.random() < 0.1:
        category = rnd.choice(("work", "hobbies", "lifestyle", "habits", "other", "core"))
    created = _START_US + rnd.randrange(_SPAN_US)
    edited = rnd.random() < 0.05
    updated = created + (rnd.randrange(86_400_000_000 * 30) if edited else 0)
    tags = rnd.sample(TAGS, rnd.choice((0, 0, 1, 1, 2, 3)))
    return {
        "kind": "memory",
        "user": user,
        "id": _uuid7(created // 1000, rnd),
        "content": content,
        "category": category,
        "visibility": "private" if rnd.random() < 0.9 else "public",
        "tags": tags,
        "created_at": _rfc3339(created),
        "updated_at": _rfc3339(updated),
        "manually_added": manual,
        "scoring": scoring(manually_added=manual, category=category, created_us=created),
        "reviewed": manual or rnd.random() < 0.5,
        "user_review": True if manual else rnd.choice((None, None, True, False)),
        "edited": edited,
    }


def user_lines(user: str, count: int, seed: int) -> Iterator[tuple[str, dict[str, Any]]]:
    """The import lines of one user with `count` memories: (json line, record)."""
    rnd = random.Random(f"{seed}:{user}")
    created = _rfc3339(_START_US - 86_400_000_000)
    yield (
        json.dumps({"kind": "user", "id": _uuid7(0, rnd), "name": user, "created_at": created}),
        {},
    )
    key = key_for(user)
    yield (
        json.dumps(
            {
                "kind": "key",
                "id": hashlib.sha256(user.encode()).hexdigest()[:12],
                "user": user,
                "name": "bench",
                "prefix": key[:12],
                "key_hash": hashlib.sha256(key.encode("ascii")).hexdigest(),
                "scopes": ["memories:read", "memories:write"],
                "created_at": created,
                "last_used_at": None,
                "revoked_at": None,
            }
        ),
        {},
    )
    for _ in range(count):
        record = memory_record(user, rnd)
        yield json.dumps(record, ensure_ascii=False, separators=(",", ":")), record


def create_body(rnd: random.Random, text: tuple[str, str] | None = None) -> dict[str, Any]:
    """A create request as clients send it: content, sometimes category and tags.
    `text` is its (content, category), by default a new `memory_text`."""
    content, category = text or memory_text(rnd)
    body: dict[str, Any] = {"content": content}
    if rnd.random() < 0.4:  # the rest is categorised by the server
        body["category"] = category
    if rnd.random() < 0.5:
        body["tags"] = rnd.sample(TAGS, rnd.choice((1, 2)))
    if rnd.random() < 0.1:
        body["visibility"] = "public"
    return body


# -- fresh content for write benchmarks ------------------------------------------

# Specific details a memory may carry; one is added when a text repeats another.
DETAILS = (
    "as of {month} {dom}, {fyear}",
    "for about {n} weeks now",
    "and spends around {n} dollars a month on it",
    "since the trip to {city} in {month} {fyear}",
    "which {name} brought up on {day}, {month} {dom}",
    "and wants a reminder {n} days before",
)


def content_key(text: str) -> tuple[str, ...]:
    """What makes two texts the same memory to mnemo's duplicate check, or more: the
    sorted content words (mnemo.search.dedup: an exact or near duplicate has the same
    content words; texts with different ones are never duplicates)."""
    from mnemo.search.dedup import content_words

    return tuple(sorted(content_words(text)))


class FreshContent:
    """Memory texts that no other text of the run repeats: every write benchmark stores
    new facts, never a duplicate (which would measure the duplicate check, not a write).

    A text is `memory_text`'s; when its `content_key` was seen before (in the imported
    data passed to `taken`, or earlier from this generator), a specific detail ("as of
    March 14, 2025", "for about 12 weeks now"...) is added until it is new. Texts stay
    realistic and 5-50 words long."""

    def __init__(self, seed: int, taken: set[tuple[str, ...]] | None = None) -> None:
        self.rnd = random.Random(f"fresh:{seed}")
        self.seen: set[tuple[str, ...]] = taken if taken is not None else set()

    def take(self, texts: Iterator[str] | list[str]) -> None:
        """Mark texts already stored (imported) as seen."""
        self.seen.update(content_key(t) for t in texts)

    def text(self) -> tuple[str, str]:
        """(content, category), new to the run."""
        content, category = memory_text(self.rnd)
        key = content_key(content)
        base = content
        while key in self.seen:
            detail = self.rnd.choice(DETAILS).format(
                month=self.rnd.choice(MONTHS),
                dom=self.rnd.randint(1, 28),
                fyear=self.rnd.randint(2015, 2026),
                n=self.rnd.randint(2, 400),
                city=self.rnd.choice(CITIES),
                name=self.rnd.choice(NAMES),
                day=self.rnd.choice(DAYS),
            )
            content = f"{base}, {detail}"
            key = content_key(content)
        self.seen.add(key)
        return content, category

    def create_body(self) -> dict[str, Any]:
        return create_body(self.rnd, self.text())
