"""Write the retrieval evaluation set: `python bench/retrieval_data.py`.

Writes `data/retrieval/memories.jsonl` and `data/retrieval/queries.jsonl` (see
`data/retrieval/README.md`). Everything is written here, from hand-made templates and
value lists, with a fixed seed: no text is downloaded or copied from anywhere, and
the same script always writes the same files.

Each user is a random persona: a selection of topics (family, diet, work, pets,
hobbies, health, ...), each giving one to three memories in one of several
phrasings. Every memory carries internal tags (`family_loc`, `person:Sarah`, ...);
a query is relevant to the memories whose tags contain all the tags of one of its
tag sets. Queries are mostly paraphrases that share no content word with their
answer ("what should I cook for dinner?" -> "User is vegetarian"), and some only
match by a rare name or term ("who is Priya?"), so that each retrieval mode has
something the other cannot do alone.

Users u00-u19 are the dev split (for tuning), u20-u59 the test split.
"""

from __future__ import annotations

import json
import random
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

SEED = 20240611
USERS = 60
DEV_USERS = 20
QUERIES_PER_USER = (5, 7)
OUT = Path(__file__).resolve().parent.parent / "data" / "retrieval"

FEMALE = [
    "Sarah",
    "Emma",
    "Priya",
    "Olivia",
    "Mei",
    "Aisha",
    "Chloe",
    "Hannah",
    "Rosa",
    "Ingrid",
    "Fatima",
    "Yuki",
    "Leah",
    "Nadia",
    "Grace",
    "Lucia",
    "Amara",
    "Freya",
    "Zoe",
    "Tamar",
    "Keiko",
    "Daniela",
    "Imani",
    "Maren",
    "Beatriz",
    "Noor",
    "Elif",
    "Saoirse",
    "Anika",
    "Camille",
]
MALE = [
    "Tom",
    "Marcus",
    "Raj",
    "David",
    "Kenji",
    "Omar",
    "Lucas",
    "Ethan",
    "Diego",
    "Felix",
    "Samuel",
    "Andre",
    "Mateo",
    "Hugo",
    "Tariq",
    "Jonah",
    "Liam",
    "Nikhil",
    "Bruno",
    "Theo",
    "Malik",
    "Soren",
    "Arjun",
    "Pavel",
    "Emeka",
    "Rafael",
    "Ciaran",
    "Dmitri",
    "Tobias",
    "Wendell",
]
CITIES = [
    "Portland",
    "Denver",
    "Austin",
    "Chicago",
    "Seattle",
    "Boston",
    "Atlanta",
    "Phoenix",
    "Minneapolis",
    "Pittsburgh",
    "Sacramento",
    "Tucson",
    "Milwaukee",
    "Nashville",
    "Raleigh",
    "Albuquerque",
    "Omaha",
    "Spokane",
    "Savannah",
    "Boise",
    "Madison",
    "Asheville",
    "Toronto",
    "Vancouver",
    "Dublin",
    "Lisbon",
    "Melbourne",
    "Glasgow",
    "Rotterdam",
    "Lyon",
]
COUNTRIES = [
    "Brazil",
    "India",
    "Nigeria",
    "Poland",
    "Vietnam",
    "Ireland",
    "Mexico",
    "Kenya",
    "Portugal",
    "Ukraine",
    "Philippines",
    "Turkey",
    "Egypt",
    "Chile",
    "Greece",
]
COMPANIES = [
    "Initech",
    "Globex",
    "Hooli",
    "Vandelay",
    "Cyberdyne",
    "Tyrell",
    "Wonka",
    "Soylent",
    "Massive",
    "Dynamic",
    "Stark",
    "Umbrella",
    "Aperture",
    "Monarch",
    "Oscorp",
    "Gringotts",
    "Pendleton",
    "Dunder",
    "Kessler",
    "Zenith",
]
COMPANIES = [c for c in COMPANIES if c not in ("Massive", "Dynamic")] + ["Massive Dynamic"]
UNIS = [
    "Purdue",
    "Vanderbilt",
    "Rutgers",
    "Tulane",
    "Baylor",
    "Gonzaga",
    "Dartmouth",
    "Creighton",
    "Villanova",
    "Marquette",
]
PETS = [
    "Biscuit",
    "Max",
    "Luna",
    "Pepper",
    "Mochi",
    "Ziggy",
    "Waffles",
    "Juniper",
    "Otis",
    "Clementine",
    "Pickles",
    "Nala",
    "Rocco",
    "Tofu",
    "Bandit",
]
RESTAURANTS = [
    "Nopalito",
    "Bar Lupa",
    "Sakura Tei",
    "Chez Odette",
    "Taqueria Oaxaca",
    "Little Saigon Pho",
    "Trattoria Bellini",
    "Kabab Palace",
]
YEARS = [str(y) for y in range(2008, 2024)]
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

JOBS = [
    "nurse",
    "software engineer",
    "high school chemistry teacher",
    "accountant",
    "graphic designer",
    "electrician",
    "product manager",
    "dentist",
    "firefighter",
    "data scientist",
    "pharmacist",
    "architect",
    "veterinarian",
    "paralegal",
    "chef",
    "airline pilot",
    "mechanical engineer",
    "journalist",
    "physical therapist",
    "real estate agent",
    "carpenter",
    "social worker",
    "librarian",
    "UX researcher",
]


@dataclass
class Memory:
    text: str
    tags: set[str]


@dataclass
class Query:
    text: str
    relevant: list[set[str]]  # a memory is relevant if it has all the tags of one set
    kind: str  # "semantic" (paraphrase), "keyword" (a rare name or term), "mixed" (both)


@dataclass
class Persona:
    rng: random.Random
    gender: str
    used: set[str] = field(default_factory=set)
    memories: list[Memory] = field(default_factory=list)
    queries: list[Query] = field(default_factory=list)

    def pick(self, pool: list[str]) -> str:
        choices = [p for p in pool if p not in self.used]
        value = self.rng.choice(choices)
        self.used.add(value)
        return value

    def name(self, gender: str | None = None) -> str:
        g = gender or self.rng.choice("fm")
        return self.pick(FEMALE if g == "f" else MALE)

    def say(self, options: list[str], tags: set[str] | list[str], **slots: str) -> None:
        text = frame(self.rng, self.rng.choice(options).format(**slots))
        years = {f"year:{y}" for y in re.findall(r"\b(?:19|20)\d\d\b", text)}
        self.memories.append(Memory(text, set(tags) | years))

    def ask(
        self, options: list[str], relevant: list[set[str]], kind: str = "semantic", **slots: str
    ) -> None:
        he, his, him = ("he", "his", "him") if self.gender == "m" else ("she", "her", "her")
        text = self.rng.choice(options).format(he=he, his=his, him=him, **slots)
        self.queries.append(Query(text, relevant, kind))


PREFIXES = [
    "User mentioned that ",
    "User said that ",
    "During a call, User said that ",
    "User told the assistant that ",
]


def frame(rng: random.Random, text: str) -> str:
    """Some memories keep the reporting frame of the conversation they came from."""
    if rng.random() < 0.15 and text.startswith("User "):
        return rng.choice(PREFIXES) + text[len("User ") :].replace("User's", "their")
    return text


# --------------------------------------------------------------------------- topics


def siblings(p: Persona) -> None:
    rels = p.rng.choice(
        [
            ["sister"],
            ["brother"],
            ["sister", "brother"],
            ["brother", "sister"],
            ["sister", "sister"],
        ]
    )
    for rel in rels:
        n = p.name("f" if rel == "sister" else "m")
        city = p.pick(CITIES)
        person = f"person:{n}"
        p.say(
            [
                "User's {rel} {n} lives in {city}",
                "User's {rel}, {n}, lives in {city}",
                "{n} is User's {rel} and lives in {city}",
                "User has an older {rel} named {n} who lives in {city}",
                "User's younger {rel} {n} moved to {city} a few years ago",
            ],
            {"family", "family_loc", "sibling", person, f"rel:{rel}"},
            rel=rel,
            n=n,
            city=city,
        )
        if p.rng.random() < 0.6:
            p.say(
                [
                    "User's {rel} {n} works as a {job}",
                    "{n}, User's {rel}, is a {job}",
                    "User's {rel} {n} is a {job}",
                ],
                {"family", "sibling", person, f"rel:{rel}", "family_job"},
                rel=rel,
                n=n,
                job=p.rng.choice(JOBS),
            )
            p.ask(
                ["what does {n} do for a living?", "what's {n}'s job?", "where does {n} work?"],
                [{person, "family_job"}],
                "mixed",
                n=n,
            )
        if p.rng.random() < 0.4:
            p.say(
                [
                    "User's {rel} {n} is getting married next spring",
                    "User's {rel} {n} has twin boys",
                    "User and {n} talk on the phone every weekend",
                    "User is very close with {n}, {pos} {rel}",
                ],
                {"family", "sibling", person, f"rel:{rel}"},
                rel=rel,
                n=n,
                pos="their",
            )
        p.ask(
            ["where does {n} live?", "which city is {n} in these days?", "is {n} nearby?"],
            [{person, "family_loc"}],
            "keyword",
            n=n,
        )
        p.ask(
            ["who is {n}?", "tell me about {n}", "anything I should remember about {n}?"],
            [{person}],
            "keyword",
            n=n,
        )
        p.ask(
            ["what does my {rel} do for work?", "what is {his} {rel}'s job?"],
            [{f"rel:{rel}", "family_job"}],
            rel=rel,
        )
        p.ask(
            ["where does my {rel} live?", "which city is {his} {rel} in?"],
            [{f"rel:{rel}", "family_loc"}],
            rel=rel,
        )
    p.ask(["where does my family live?", "where do {his} relatives live?"], [{"family_loc"}])
    p.ask(
        [
            "does {he} have any siblings?",
            "how many brothers and sisters do I have?",
            "does the user come from a big family?",
        ],
        [{"sibling"}],
    )


def parents(p: Persona) -> None:
    city = p.pick(CITIES)
    p.say(
        [
            "User's parents live in {city}",
            "User's mom and dad still live in {city}",
            "User's parents retired to {city}",
        ],
        {"family", "family_loc", "parents"},
        city=city,
    )
    if p.rng.random() < 0.6:
        p.say(
            [
                "User's mother is a retired {job}",
                "User's dad works as a {job}",
                "User's father was a {job} for thirty years",
            ],
            {"family", "parents", "family_job"},
            job=p.rng.choice(JOBS),
        )
    if p.rng.random() < 0.5:
        p.say(
            [
                "User's father passed away in {year}",
                "User calls their mother every Sunday",
                "User's mom has early-stage Alzheimer's",
                "User's parents divorced when User was twelve",
            ],
            {"family", "parents"},
            year=p.rng.choice(YEARS),
        )
    p.ask(["where does my family live?", "where do {his} relatives live?"], [{"family_loc"}])
    p.ask(
        ["where do {his} folks live?", "where are my mom and dad these days?"],
        [{"parents", "family_loc"}],
    )
    p.ask(
        ["what do my parents do for a living?", "what was {his} dad's career?"],
        [{"parents", "family_job"}],
    )


def partner(p: Persona) -> None:
    kind = p.rng.choice(["wife", "husband", "partner", "girlfriend", "boyfriend", "single"])
    if kind == "single":
        p.say(
            [
                "User is single",
                "User is not seeing anyone right now",
                "User is divorced and happily single",
            ],
            {"partner"},
        )
        p.ask(
            ["is {he} married?", "am I in a relationship?", "does the user have a spouse?"],
            [{"partner"}],
        )
        return
    n = p.name(
        "f" if kind in ("wife", "girlfriend") else "m" if kind in ("husband", "boyfriend") else None
    )
    person = f"person:{n}"
    p.say(
        [
            "User's {kind} {n} is a {job}",
            "User's {kind}, {n}, works as a {job}",
            "User is married to {n}, who works as a {job}",
        ]
        if kind in ("wife", "husband")
        else [
            "User's {kind} {n} is a {job}",
            "User has been dating {n} for two years; {n} is a {job}",
        ],
        {"partner", person, "partner_job"},
        kind=kind,
        n=n,
        job=p.rng.choice(JOBS),
    )
    if p.rng.random() < 0.6:
        p.say(
            [
                "User and {n} got married in {month} {year}",
                "User's anniversary with {n} is {month} 12",
                "User met {n} at a friend's wedding",
            ],
            {"partner", person, "anniversary"},
            n=n,
            month=p.rng.choice(MONTHS),
            year=p.rng.choice(YEARS),
        )
    p.ask(
        ["is {he} married?", "am I in a relationship?", "does the user have a spouse?"],
        [{"partner"}],
    )
    p.ask(["what does {his} spouse do?", "what's my significant other's job?"], [{"partner_job"}])
    p.ask(["who is {n}?", "tell me about {n}"], [{person}], "keyword", n=n)
    p.ask(
        ["what does {n} do for a living?", "what is {n}'s occupation?"],
        [{person, "partner_job"}],
        "mixed",
        n=n,
    )


def kids(p: Persona) -> None:
    a, b = p.name("f"), p.name("m")
    n = p.rng.choice([1, 2])
    if n == 2:
        p.say(
            [
                "User has two kids, {a} and {b}",
                "User has a daughter, {a}, and a son, {b}",
                "User is a parent of two: {a} and {b}",
            ],
            {"kids", f"person:{a}", f"person:{b}"},
            a=a,
            b=b,
        )
    else:
        p.say(
            [
                "User has a daughter named {a}",
                "User's only child is a girl called {a}",
                "User has one kid, {a}",
            ],
            {"kids", f"person:{a}"},
            a=a,
        )
    if p.rng.random() < 0.7:
        p.say(
            [
                "User's daughter {a} takes piano lessons",
                "User's daughter {a} plays soccer",
                "User's daughter {a} is on the swim team",
            ],
            {"kids", f"person:{a}", "kids_activity"},
            a=a,
        )
    if p.rng.random() < 0.5:
        p.say(
            [
                "User's daughter {a} is seven years old",
                "User's daughter {a} turns ten in May",
                "User's daughter {a} just started kindergarten",
            ],
            {"kids", f"person:{a}", "kids_age"},
            a=a,
        )
    p.ask(
        ["does {he} have children?", "how many kids do I have?", "is the user a parent?"],
        [{"kids"}],
    )
    p.ask(
        ["what after-school activities do my children do?", "what are the kids into?"],
        [{"kids_activity"}],
    )
    p.ask(["what is {a} up to?", "anything about {a}?"], [{f"person:{a}"}], "keyword", a=a)
    p.ask(
        ["how old is {a}?", "when is {a}'s birthday?"], [{f"person:{a}", "kids_age"}], "mixed", a=a
    )
    p.ask(
        ["what sport or lessons does {a} do?", "what is {a} into after school?"],
        [{f"person:{a}", "kids_activity"}],
        "mixed",
        a=a,
    )


def friends(p: Persona) -> None:
    options = [
        ("User's best friend {n} is a {job}", {"friends", "best_friend", "friend_job"}),
        ("User's college roommate {n} lives in {city}", {"friends", "friend_loc"}),
        ("User plays poker every Thursday with {n}", {"friends", "games"}),
        ("User's neighbor {n} waters the plants whenever User travels", {"friends", "neighbor"}),
        ("User's coworker {n} is training for a triathlon", {"friends", "coworker"}),
        ("User has known {n} since kindergarten", {"friends", "best_friend"}),
    ]
    for tmpl, tags in p.rng.sample(options, p.rng.choice([1, 2, 3])):
        n = p.name()
        p.say(
            [tmpl], tags | {f"person:{n}"}, n=n, job=p.rng.choice(JOBS), city=p.rng.choice(CITIES)
        )
        p.ask(
            ["who is {n}?", "how do I know {n}?", "remind me who {n} is"],
            [{f"person:{n}"}],
            "keyword",
            n=n,
        )
        if "friend_job" in tags:
            p.ask(
                ["what does {n} do for work?", "what's {n}'s profession?"],
                [{f"person:{n}", "friend_job"}],
                "mixed",
                n=n,
            )
        if "friend_loc" in tags:
            p.ask(
                ["where does {n} live now?", "which city is {n} in?"],
                [{f"person:{n}", "friend_loc"}],
                "mixed",
                n=n,
            )
        if "neighbor" in tags:
            p.ask(["who can look after my houseplants while I'm away?"], [{"neighbor"}])
        if "best_friend" in tags:
            p.ask(["who is {his} closest pal?", "who's my oldest buddy?"], [{"best_friend"}])


def diet(p: Persona) -> None:
    p.say(
        p.rng.choice(
            [
                [
                    "User is vegetarian",
                    "User doesn't eat meat",
                    "User has been vegetarian since college",
                ],
                ["User is vegan", "User follows a plant-based diet and avoids all animal products"],
                ["User is pescatarian: fish is fine but no other meat"],
                ["User keeps kosher", "User eats halal only"],
                ["User is on a keto diet and avoids carbs", "User is cutting out sugar and bread"],
                ["User doesn't eat pork or beef"],
            ]
        ),
        {"food", "diet"},
    )
    p.ask(
        [
            "what should I cook for dinner?",
            "recipe ideas for tonight?",
            "what should I make for {him} when {he} comes over to eat?",
        ],
        [{"diet"}, {"allergy_food"}, {"cuisine"}],
    )
    p.ask(
        [
            "any dietary restrictions?",
            "is there anything I can't eat?",
            "can we take {him} to a steakhouse?",
            "what should I avoid serving at the barbecue?",
        ],
        [{"diet"}, {"allergy_food"}],
    )


def food_allergy(p: Persona) -> None:
    p.say(
        [
            "User is allergic to peanuts",
            "User has a severe shellfish allergy",
            "User is lactose intolerant",
            "User has celiac disease and can't have gluten",
            "User gets sick from eating eggs",
            "User is allergic to tree nuts",
        ],
        {"food", "allergy_food", "health"},
    )
    p.ask(
        ["what foods make {him} sick?", "which ingredients should I keep out of the cake?"],
        [{"allergy_food"}],
    )


def cuisine(p: Persona) -> None:
    options = [
        (
            [
                "User loves Thai food",
                "User's favorite cuisine is Ethiopian",
                "User is crazy about Korean barbecue",
                "User adores Neapolitan pizza",
            ],
            set(),
        ),
        (
            [
                "User's favorite dish is lasagna",
                "User's comfort food is chicken noodle soup",
                "User could eat sushi every day",
            ],
            set(),
        ),
        (["User hates cilantro", "User can't handle spicy food", "User dislikes mushrooms"], set()),
        (["User makes great homemade ramen", "User bakes sourdough bread every weekend"], set()),
        (
            [
                "User has a sweet tooth and loves tiramisu",
                "User's favorite dessert is key lime pie",
            ],
            {"dessert"},
        ),
    ]
    for opts, extra in p.rng.sample(options, 2):
        p.say(opts, {"food", "cuisine"} | extra)
    if p.rng.random() < 0.5:
        r = p.pick(RESTAURANTS)
        p.say(
            ["User's favorite restaurant is {r}", "User goes to {r} for every birthday"],
            {"food", "cuisine", f"kw:{r}"},
            r=r,
        )
        p.ask(["have I been to {r}?", "what do I think of {r}?"], [{f"kw:{r}"}], "keyword", r=r)
    p.ask(
        [
            "where should we go out to eat?",
            "what's my favorite meal?",
            "what kind of takeout would {he} like?",
        ],
        [{"cuisine"}],
    )


def drinks(p: Persona) -> None:
    p.say(
        p.rng.choice(
            [
                [
                    "User drinks black coffee every morning",
                    "User takes oat milk in their coffee",
                    "User needs two espressos to start the day",
                ],
                ["User prefers green tea over coffee", "User doesn't drink caffeine at all"],
            ]
        ),
        {"drinks", "coffee"},
    )
    if p.rng.random() < 0.7:
        p.say(
            p.rng.choice(
                [
                    ["User doesn't drink alcohol", "User has been sober for five years"],
                    [
                        "User enjoys IPAs",
                        "User loves red wine, especially Malbec",
                        "User's go-to cocktail is a negroni",
                    ],
                ]
            ),
            {"drinks", "alcohol"},
        )
        p.ask(
            [
                "should I bring a bottle of wine to {his} place?",
                "what should I order for {him} at the bar?",
            ],
            [{"alcohol"}],
        )
    p.ask(
        ["how do I take my morning cup?", "what should I order for {him} at the cafe?"],
        [{"coffee"}],
    )


def job(p: Persona) -> None:
    company = p.pick(COMPANIES)
    j = p.rng.choice(JOBS)
    kw = f"company:{company}"
    p.say(
        [
            "User works as a {j} at {c}",
            "User is a {j} at {c}",
            "User recently started a new job as a {j} at {c}",
            "User has been a {j} at {c} for six years",
        ],
        {"work", "job", kw},
        j=j,
        c=company,
    )
    if p.rng.random() < 0.6:
        n = p.name()
        p.say(
            [
                "User's manager at {c} is {n}",
                "User reports to {n}",
                "User's boss, {n}, is very demanding",
            ],
            {"work", "manager", f"person:{n}", kw},
            c=company,
            n=n,
        )
        p.ask(["who is my boss?", "who does {he} report to?"], [{"manager"}])
        p.ask(
            ["who is my manager at {c}?", "who's {his} supervisor at {c}?"],
            [{"manager"}],
            "mixed",
            c=company,
        )
    if p.rng.random() < 0.4:
        p.say(
            [
                "User is up for a promotion this year",
                "User is thinking about quitting {c}",
                "User wants to move into management",
            ],
            {"work", "career", kw},
            c=company,
        )
    p.ask(
        ["what do I do for a living?", "what's {his} profession?", "where does {he} work?"],
        [{"job"}],
    )
    p.ask(["anything about {c}?", "what do I know about {c}?"], [{kw}], "keyword", c=company)


def skills(p: Persona) -> None:
    if p.rng.random() < 0.6:
        p.say(
            [
                "User writes mostly Python and Go",
                "User is learning Rust",
                "User knows SQL and Excel really well",
                "User is studying for the AWS exam",
                "User codes in TypeScript at work",
            ],
            {"skills", "programming"},
        )
        p.ask(
            ["which programming languages do I know?", "what tech stack is {he} good at?"],
            [{"programming"}],
        )
    p.say(
        [
            "User speaks Spanish and Portuguese fluently",
            "User is learning Japanese on Duolingo",
            "User's native language is Tagalog",
            "User is bilingual in English and Korean",
            "User took four years of French",
        ],
        {"skills", "languages"},
    )
    p.ask(
        ["does {he} speak any foreign languages?", "what languages can I speak?"], [{"languages"}]
    )
    if p.rng.random() < 0.4:
        p.say(
            ["User manages a team of eight people", "User leads a team of five engineers"],
            {"work", "team"},
        )
        p.ask(["how many people report to me?", "how big is {his} team?"], [{"team"}])


def schedule(p: Persona) -> None:
    p.say(
        [
            "User works from home on Mondays and Fridays",
            "User's workday starts at 7 am",
            "User works night shifts",
            "User has Wednesdays off",
        ],
        {"work", "schedule"},
    )
    if p.rng.random() < 0.6:
        p.say(
            [
                "User commutes by train",
                "User has a 45-minute drive to the office",
                "User walks to work",
            ],
            {"commute", "transport"},
        )
        p.ask(["how do I get to the office?", "how long is {his} trip into work?"], [{"commute"}])
    p.ask(
        ["when is a good time to call {him} on a weekday?", "when am I free during the week?"],
        [{"schedule"}, {"sleep"}, {"contact"}],
    )


def education(p: Persona) -> None:
    u = p.pick(UNIS)
    p.say(
        [
            "User studied mechanical engineering at {u}",
            "User has a master's degree from {u}",
            "User graduated from {u} in {y}",
            "User went to {u} on a rowing scholarship",
        ],
        {"education", f"kw:{u}"},
        u=u,
        y=p.rng.choice(YEARS),
    )
    if p.rng.random() < 0.3:
        p.say(
            ["User is taking night classes in accounting", "User is working on a PhD in biology"],
            {"education"},
        )
    p.ask(
        ["where did I go to college?", "what did {he} study?", "what is {his} degree in?"],
        [{"education"}],
    )
    p.ask(["did I go to {u}?", "who do I know from {u}?"], [{f"kw:{u}"}], "keyword", u=u)


def home(p: Persona) -> None:
    city = p.pick(CITIES)
    p.say(
        [
            "User lives in {city}",
            "User moved to {city} in {y}",
            "User is based in {city}",
            "User lives in a two-bedroom apartment in {city}",
        ],
        {"home", "user_loc"},
        city=city,
        y=p.rng.choice(YEARS),
    )
    if p.rng.random() < 0.6:
        p.say(
            [
                "User owns a house with a big backyard",
                "User rents a studio apartment",
                "User lives with three roommates",
                "User is renovating their kitchen",
            ],
            {"home", "housing"},
        )
        p.ask(["do I rent or own my place?", "what's {his} living situation?"], [{"housing"}])
    p.ask(
        [
            "where am I based?",
            "which city does {he} live in?",
            "what's the weather like where {he} lives?",
        ],
        [{"user_loc"}],
    )


def origin(p: Persona) -> None:
    p.say(
        [
            "User grew up in {city}",
            "User is originally from {country}",
            "User was born in {country} and moved to the US at age ten",
        ],
        {"origin"},
        city=p.pick(CITIES),
        country=p.rng.choice(COUNTRIES),
    )
    p.ask(
        [
            "where am I from originally?",
            "where did {he} spend {his} childhood?",
            "what is {his} hometown?",
        ],
        [{"origin"}],
    )


def pets(p: Persona) -> None:
    if p.rng.random() < 0.2:
        if p.rng.random() < 0.5:
            p.say(["User is allergic to cats"], {"allergy_pet", "health"})
        else:
            p.say(["User is scared of dogs"], {"allergy_pet", "fears"})
        p.ask(["can I bring my cat when I visit?"], [{"allergy_pet"}, {"pets"}])
        return
    pet = p.pick(PETS)
    tag = f"pet:{pet}"
    p.say(
        [
            "User has a golden retriever named {pet}",
            "User's cat {pet} is twelve years old",
            "User adopted a rescue greyhound called {pet}",
            "User has a bearded dragon named {pet}",
            "User's dog {pet} is a border collie",
        ],
        {"pets", tag},
        pet=pet,
    )
    if p.rng.random() < 0.5:
        p.say(
            [
                "User walks {pet} every morning before work",
                "{pet} has a vet appointment every spring",
                "{pet} sleeps on User's bed",
            ],
            {"pets", tag},
            pet=pet,
        )
    p.ask(
        ["does {he} have any animals?", "do I have pets?", "what are my pets called?"], [{"pets"}]
    )
    p.ask(["who is {pet}?", "how is {pet} doing?"], [{tag}], "keyword", pet=pet)
    p.ask(["what kind of animal is {pet}?", "what breed is {pet}?"], [{tag}], "mixed", pet=pet)


def sport(p: Persona) -> None:
    options = [
        "User plays tennis on weekends",
        "User runs five miles most mornings",
        "User ran the Boston Marathon in {y}",
        "User goes rock climbing at a local gym",
        "User swims laps three times a week",
        "User does yoga every morning",
        "User plays pickup basketball on Tuesdays",
        "User is a member of a cycling club",
        "User lifts weights four days a week",
    ]
    for text in p.rng.sample(options, p.rng.choice([1, 2])):
        p.say([text], {"hobby", "exercise"}, y=p.rng.choice(YEARS))
    p.ask(
        [
            "how do I stay in shape?",
            "what does {he} do for exercise?",
            "what's my workout routine?",
        ],
        [{"exercise"}],
    )


def music(p: Persona) -> None:
    bands = ["Radiohead", "Fleetwood Mac", "Beyonce", "Metallica", "Bon Iver", "Coltrane"]
    choice = p.rng.random()
    if choice < 0.4:
        b = p.pick(bands)
        p.say(
            [
                "User is a huge {b} fan",
                "User has seen {b} live six times",
                "User listens to {b} constantly",
            ],
            {"hobby", "music", f"kw:{b}"},
            b=b,
        )
        p.ask(["does {he} like {b}?", "what do I think of {b}?"], [{f"kw:{b}"}], "keyword", b=b)
    else:
        p.say(
            [
                "User listens to jazz while working",
                "User loves 90s hip hop",
                "User is into classical piano music",
                "User mostly listens to country",
            ],
            {"hobby", "music"},
        )
    if p.rng.random() < 0.5:
        p.say(
            [
                "User plays the acoustic guitar",
                "User sings in a community choir",
                "User is learning to play the cello",
                "User played drums in a high school band",
            ],
            {"hobby", "music", "instrument"},
        )
        p.ask(["does {he} play an instrument?", "am I musical?"], [{"instrument"}])
    p.ask(
        ["what kind of tunes am I into?", "what should go on the playlist for {his} party?"],
        [{"music"}],
    )


def media(p: Persona) -> None:
    books = [
        ("User's favorite book is Dune", "Dune"),
        ("User reads a lot of science fiction", None),
        ("User reads mystery novels before bed", None),
        ("User's favorite author is Ursula Le Guin", "Le Guin"),
        ("User is in a book club that reads historical fiction", None),
    ]
    screen = [
        ("User is rewatching The Sopranos", "Sopranos"),
        ("User loves Studio Ghibli films", "Ghibli"),
        ("User's favorite movie is The Princess Bride", None),
        ("User watches every Marvel movie on opening night", "Marvel"),
        ("User listens to true crime podcasts", None),
    ]
    for pool, tag, q in (
        (books, "books", ["what should I read next?", "book recommendations for {him}?"]),
        (screen, "screen", ["what should we watch tonight?", "movie night pick for {him}?"]),
    ):
        if p.rng.random() < 0.75:
            text, kw = p.rng.choice(pool)
            tags = {"hobby", "media", tag}
            if kw:
                tags.add(f"kw:{kw}")
                p.ask(
                    ["does {he} like {kw}?", "anything about {kw}?"],
                    [{f"kw:{kw}"}],
                    "keyword",
                    kw=kw,
                )
            p.say([text], tags)
            p.ask(q, [{tag}])


def crafts(p: Persona) -> None:
    options = [
        "User is into woodworking and built their own dining table",
        "User knits in the evenings",
        "User builds mechanical keyboards",
        "User collects vinyl records",
        "User grows tomatoes and peppers in the garden",
        "User does film photography",
        "User paints watercolors",
        "User restores vintage motorcycles",
        "User does pottery on a wheel",
    ]
    for text in p.rng.sample(options, p.rng.choice([1, 2])):
        p.say([text], {"hobby", "crafts"})
    p.ask(
        ["gift ideas for {him}?", "what should I get {him} for {his} birthday?"],
        [{"crafts"}, {"instrument"}, {"games"}, {"music"}, {"media"}],
    )
    p.ask(["what does {he} do in {his} free time?", "how do I spend my weekends?"], [{"hobby"}])


def games(p: Persona) -> None:
    p.say(
        [
            "User plays chess online most evenings",
            "User loves board games, especially Catan",
            "User plays Zelda on the Nintendo Switch",
            "User runs a Dungeons and Dragons campaign every other Friday",
        ],
        {"hobby", "games"},
    )
    p.ask(["what games does {he} play?", "ideas for a game night with {him}?"], [{"games"}])


def travel(p: Persona) -> None:
    p.say(
        [
            "User visited Japan in {y} and wants to go back",
            "User wants to visit Iceland someday",
            "User spent a semester abroad in Florence",
            "User dreams of seeing Patagonia",
        ],
        {"travel", "travel_dest"},
        y=p.rng.choice(YEARS),
    )
    if p.rng.random() < 0.7:
        if p.rng.random() < 0.25:
            p.say(["User gets anxious on airplanes"], {"travel", "flying", "fears"})
        else:
            p.say(
                [
                    "User hates flying",
                    "User always books a window seat",
                    "User prefers road trips over flying",
                ],
                {"travel", "flying"},
            )
        p.ask(
            ["how does {he} feel about planes?", "aisle or window when I book flights?"],
            [{"flying"}],
        )
    p.ask(["vacation ideas for me?", "where should I go on holiday next?"], [{"travel_dest"}])


def health(p: Persona) -> None:
    conditions = [
        ("User has type 1 diabetes", set()),
        ("User takes Zyrtec for seasonal allergies", {"meds", "kw:Zyrtec"}),
        ("User has asthma and carries an inhaler", {"meds"}),
        ("User wears contact lenses", {"vision"}),
        ("User had knee surgery in {y}", set()),
        ("User has high blood pressure and takes lisinopril", {"meds", "kw:lisinopril"}),
        ("User gets migraines", set()),
        ("User is colorblind", {"vision"}),
    ]
    for text, extra in p.rng.sample(conditions, p.rng.choice([1, 2])):
        p.say([text], {"health"} | extra, y=p.rng.choice(YEARS))
        for tag in extra:
            if tag.startswith("kw:"):
                kw = tag[3:]
                p.ask(["am I on {kw}?", "why does {he} take {kw}?"], [{tag}], "keyword", kw=kw)
    p.ask(
        ["any medical conditions I should know about?", "what health issues does {he} have?"],
        [{"health"}],
    )
    p.ask(["what prescriptions am I on?", "does {he} take any pills?"], [{"meds"}])


def sleep(p: Persona) -> None:
    p.say(
        [
            "User is a night owl",
            "User wakes up at 5 am every day",
            "User has insomnia",
            "User naps after lunch",
            "User goes to bed by 9:30",
        ],
        {"sleep"},
    )
    p.ask(["is {he} a morning person?", "what time does {he} get up?"], [{"sleep"}])
    p.ask(["when should I avoid texting {him}?"], [{"sleep"}, {"schedule"}])


def communication(p: Persona) -> None:
    options = [
        ("User prefers texting over phone calls", "contact"),
        ("User hates voicemail", "contact"),
        ("User prefers email for anything work-related", "contact"),
        ("User likes short, direct answers", "format"),
        ("User wants responses in bullet points", "format"),
        ("User prefers British spelling", "format"),
    ]
    for text, tag in p.rng.sample(options, p.rng.choice([1, 2])):
        p.say([text], {"comm", tag})
    p.ask(["how should I reach {him}?", "best way to get hold of me?"], [{"contact"}])
    p.ask(
        ["how do I like replies written?", "how should I format my answers to {him}?"], [{"format"}]
    )


def personality(p: Persona) -> None:
    options = [
        ("User is an introvert who recharges alone", "social"),
        ("User hates crowds", "social"),
        ("User volunteers at an animal shelter on Saturdays", "values"),
        ("User attends church every Sunday", "values"),
        ("User cares deeply about climate change", "values"),
        ("User meditates every morning", "values"),
    ]
    for text, tag in p.rng.sample(options, p.rng.choice([1, 2])):
        p.say([text], {"personality", tag})
    p.ask(["what causes do I care about?", "what matters most to {him}?"], [{"values"}])
    p.ask(
        ["does {he} enjoy big parties?", "would {he} like a surprise party with fifty guests?"],
        [{"social"}],
    )


def transport(p: Persona) -> None:
    options = [
        ("User drives a Subaru Outback", "kw:Subaru"),
        ("User doesn't own a car and bikes everywhere", None),
        ("User drives an electric Kia", "kw:Kia"),
        ("User rides a Vespa scooter", "kw:Vespa"),
        ("User takes the subway everywhere", None),
    ]
    text, kw = p.rng.choice(options)
    p.say([text], {"transport"} | ({kw} if kw else set()))
    p.ask(
        ["how do I get around town?", "what does {he} drive?", "does the user have a car?"],
        [{"transport"}, {"commute"}],
    )
    if kw:
        p.ask(["is the {k} mine?", "anything about a {k}?"], [{kw}], "keyword", k=kw[3:])


def finance(p: Persona) -> None:
    p.say(
        [
            "User is saving to buy a house",
            "User invests in index funds",
            "User is paying off student loans",
            "User uses YNAB to budget",
            "User is trying to build an emergency fund",
        ],
        {"finance"},
    )
    p.ask(["what are my money goals?", "how is {he} handling {his} finances?"], [{"finance"}])


def goals(p: Persona) -> None:
    p.say(
        [
            "User wants to learn to surf",
            "User is training for a half marathon",
            "User wants to open a bakery someday",
            "User hopes to write a novel",
            "User wants to run for city council",
        ],
        {"goals"},
    )
    p.ask(
        ["what am I working towards?", "what are {his} ambitions?", "any long-term dreams?"],
        [{"goals"}],
    )


def fears(p: Persona) -> None:
    p.say(
        [
            "User is afraid of heights",
            "User can't stand horror movies",
            "User dislikes cold weather",
            "User gets seasick on boats",
            "User is terrified of spiders",
        ],
        {"fears"},
    )
    p.ask(["what scares me?", "what is {he} afraid of?"], [{"fears"}])
    p.ask(["things to avoid when planning an outing with {him}?"], [{"fears"}, {"social"}])


def birthday(p: Persona) -> None:
    p.say(
        [
            "User's birthday is on {m} 14",
            "User was born on {m} 2, 1990",
            "User's birthday is {m} 23",
        ],
        {"birthday"},
        m=p.rng.choice(MONTHS),
    )
    p.ask(
        [
            "when should I send {him} a card?",
            "when is my birthday?",
            "when does {he} turn a year older?",
        ],
        [{"birthday"}],
    )


def style(p: Persona) -> None:
    options = [
        ("User's favorite color is green", "color"),
        ("User wears a size medium shirt", "size"),
        ("User prefers minimalist Scandinavian design", "color"),
        ("User only wears black clothes", "color"),
        ("User's shoe size is 10", "size"),
    ]
    for text, tag in p.rng.sample(options, p.rng.choice([1, 2])):
        p.say([text], {"style", tag})
    p.ask(
        ["what sweater should I buy {him}?", "what clothes should I pick out for {him}?"],
        [{"color"}, {"size"}],
    )


def tech(p: Persona) -> None:
    options = [
        ("User uses an iPhone 14", "phone"),
        ("User uses a Google Pixel", "phone"),
        ("User prefers Linux over Windows", "computer"),
        ("User's laptop is a ThinkPad X1", "computer"),
        ("User takes notes in Obsidian", "apps"),
    ]
    for text, tag in p.rng.sample(options, p.rng.choice([1, 2])):
        p.say([text], {"tech", tag})
    p.ask(["is my phone Android or Apple?", "what kind of mobile does {he} have?"], [{"phone"}])
    p.ask(["what computer do I use?", "mac or pc?"], [{"computer"}])


MISC = [  # facts that answer none of the queries below (checked by hand)
    "User is left-handed",
    "User has a tattoo of a compass on their arm",
    "User once met a famous astronaut at an airport",
    "User has freckles",
    "User always carries a pocket knife",
    "User likes rainy days",
    "User's favorite season is autumn",
    "User is an organ donor",
    "User has perfect pitch",
    "User can juggle",
    "User was an Eagle Scout",
    "User is the oldest of the cousins",
    "User likes to arrive early to everything",
    "User has moved eleven times",
    "User keeps their desk very tidy",
    "User hand-writes thank-you notes",
    "User was on a quiz show in college",
    "User prefers stairs over elevators",
    "User loves thunderstorms",
    "User likes the smell of old libraries",
    "User can whistle very loudly",
    "User wears a watch that belonged to their grandfather",
    "User hums when concentrating",
    "User's handwriting is very neat",
    "User can touch type without looking",
    "User is good with directions",
    "User sneezes in bright sunlight",
    "User was class president in high school",
    "User always double-checks that the door is locked",
    "User remembers everyone's phone number",
    "User prefers odd numbers",
    "User organizes the spice rack alphabetically",
    "User writes with a fountain pen",
    "User has a very loud laugh",
    "User can recite the periodic table",
    "User talks with their hands",
    "User is ambidextrous when writing on a whiteboard",
    "User owns three umbrellas",
    "User sleeps with the window open in winter",
    "User likes the number seven",
]


def misc(p: Persona) -> None:
    for text in p.rng.sample(MISC, p.rng.randint(4, 16)):
        p.say([text], {"misc"})


SURNAMES = [
    "Okonkwo",
    "Halvorsen",
    "Lindqvist",
    "Abernathy",
    "Castellanos",
    "Nakamura",
    "Whitfield",
    "Oyelaran",
    "Brannigan",
    "Szymanski",
    "Delacroix",
    "Thorsby",
    "Quintero",
    "Achterberg",
    "Valdivia",
    "Roussel",
    "Kowalczyk",
    "Ferreira",
    "Mbatha",
    "Eriksen",
]
CODENAMES = [
    "Tamarind",
    "Bluejay",
    "Kestrel",
    "Marmalade",
    "Quokka",
    "Halcyon",
    "Sextant",
    "Juniper-2",
    "Nimbus",
    "Foxglove",
    "Pumice",
    "Rhubarb",
]
SSIDS = [
    "BlueHeron5G",
    "CasaVerde-Net",
    "TardisNet",
    "Lemonwood24",
    "HoneybadgerHQ",
    "OrchardGuest",
    "Moonpie5",
    "Quasar-Home",
]
STREETS = [
    "Alder Street",
    "Wexford Lane",
    "Tamsin Court",
    "Quarry Road",
    "Bellweather Avenue",
    "Pennycress Way",
    "Ostrander Drive",
    "Cobalt Row",
]


def providers(p: Persona) -> None:
    options = [
        ("User's dentist is Dr. {s}", "dentist", ["who is my dentist?", "who cleans {his} teeth?"]),
        (
            "User's family doctor is Dr. {s}",
            "doctor",
            ["who is my GP?", "which physician does {he} see for checkups?"],
        ),
        (
            "User sees a therapist, Dr. {s}, every other Tuesday",
            "therapist",
            ["does {he} see a counselor?", "who do I talk to about my mental health?"],
        ),
        (
            "User's accountant, {s}, does their taxes every April",
            "accountant",
            ["who prepares my tax return?", "who handles {his} taxes?"],
        ),
        (
            "User's landlord is Mr. {s}",
            "landlord",
            ["who owns the place I rent?", "who do I call when the sink breaks?"],
        ),
    ]
    for text, tag, questions in p.rng.sample(options, p.rng.choice([1, 2, 3])):
        surname = p.pick(SURNAMES)
        kw = f"kw:{surname}"
        p.say([text], {"providers", tag, kw}, s=surname)
        p.ask(questions, [{tag}])
        p.ask(["{s}?", "who is {s}?", "what do I know about {s}?"], [{kw}], "keyword", s=surname)
        p.ask(
            ["when do I see {s} next?", "what does {s} help me with?"], [{kw}], "mixed", s=surname
        )


def specifics(p: Persona) -> None:
    if p.rng.random() < 0.7:
        ssid = p.pick(SSIDS)
        p.say(
            ["User's home Wi-Fi network is called {x}", "User's router at home broadcasts {x}"],
            {"wifi", f"kw:{ssid}"},
            x=ssid,
        )
        p.ask(
            [
                "what's the name of the wireless network at home?",
                "which network do I join at my place?",
            ],
            [{"wifi"}],
        )
        p.ask(["{x}", "is {x} my network?"], [{f"kw:{ssid}"}], "keyword", x=ssid)
    if p.rng.random() < 0.6:
        plate = (
            "".join(p.rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(3))
            + "-"
            + str(p.rng.randint(1000, 9999))
        )
        p.say(
            ["User's license plate is {x}", "User's car has the plate number {x}"],
            {"plate", f"kw:{plate}"},
            x=plate,
        )
        p.ask(
            ["what's the registration on my vehicle?", "what are {his} tags on the car?"],
            [{"plate"}],
        )
        p.ask(["{x}", "whose plate is {x}?"], [{f"kw:{plate}"}], "keyword", x=plate)
    if p.rng.random() < 0.6:
        street = p.pick(STREETS)
        p.say(
            ["User lives on {x}", "User's house is on {x}, near the park"],
            {"address", "home", f"kw:{street}"},
            x=street,
        )
        p.ask(["what's my street?", "what's {his} home address?"], [{"address"}])
        p.ask(["who lives on {x}?", "{x}"], [{f"kw:{street}"}], "keyword", x=street)


def projects(p: Persona) -> None:
    code = p.pick(CODENAMES)
    kw = f"kw:{code}"
    p.say(
        [
            "User is leading Project {c} at work",
            "User's team is building {c}, a billing system",
            "User spends most of their time on the {c} migration",
        ],
        {"work", "project", kw},
        c=code,
    )
    if p.rng.random() < 0.5:
        p.say(
            [
                "The {c} launch is User's biggest worry this quarter",
                "User thinks {c} is behind schedule",
            ],
            {"work", "project", kw},
            c=code,
        )
    p.ask(
        ["what am I working on at the office?", "what's {his} main assignment right now?"],
        [{"project"}],
    )
    p.ask(["how is {c} going?", "{c} status", "remind me what {c} is"], [{kw}], "keyword", c=code)


def numbers(p: Persona) -> None:
    """Numbers and model codes: the facts an embedding model blurs and a keyword finds."""

    def number(digits: int) -> str:
        while True:
            value = str(p.rng.randint(10 ** (digits - 1), 10**digits - 1))
            if value not in p.used:
                p.used.add(value)
                return value

    options = [
        ("User's gym locker is number {x}", 3, "locker", ["which locker is mine at the gym?"]),
        ("User's parking spot at work is {x}", 2, "parking", ["where do I park at the office?"]),
        ("User's desk phone extension is {x}", 4, "extension", ["what's {his} work phone number?"]),
        (
            "User's frequent flyer number ends in {x}",
            4,
            "flyer",
            ["what's my airline loyalty account?"],
        ),
        (
            "User's season tickets are in section {x}",
            3,
            "tickets",
            ["where are {his} seats at the stadium?"],
        ),
        ("User's apartment is unit {x}", 3, "unit", ["which flat number is mine?"]),
    ]
    for text, digits, tag, questions in p.rng.sample(options, p.rng.randint(2, 4)):
        x = ("B" if tag == "parking" else "") + number(digits)
        p.say([text], {"numbers", tag, f"kw:{x}"}, x=x)
        p.ask(questions, [{tag}])
        p.ask(["what is {x}?", "{x}", "what's {x} for?"], [{f"kw:{x}"}], "keyword", x=x)
    gadgets = [
        (
            "User's headphones are Sony WH-1000XM4",
            "WH-1000XM4",
            "audio",
            ["what earphones do I own?"],
        ),
        ("User shoots with a Fujifilm X-T30", "X-T30", "camera", ["what camera do I use?"]),
        (
            "User's watch is a Garmin Forerunner 255",
            "Forerunner",
            "watch",
            ["what does {he} wear on {his} wrist?"],
        ),
        ("User types on a Keychron K2", "K2", "keyboard", ["which keyboard do I use?"]),
        ("User's TV is an LG OLED C2", "C2", "tv", ["what television do I have?"]),
    ]
    if p.rng.random() < 0.6:
        text, code, tag, questions = p.rng.choice(gadgets)
        p.say([text], {"gadgets", tag, f"kw:{code}"})
        p.ask(questions, [{tag}])
        p.ask(["is the {c} mine?", "{c}", "do I have a {c}?"], [{f"kw:{code}"}], "keyword", c=code)


TOPICS: list[Callable[[Persona], None]] = [
    siblings,
    parents,
    partner,
    kids,
    friends,
    diet,
    food_allergy,
    cuisine,
    drinks,
    job,
    skills,
    schedule,
    education,
    home,
    origin,
    pets,
    sport,
    music,
    media,
    crafts,
    games,
    travel,
    health,
    sleep,
    communication,
    personality,
    transport,
    finance,
    goals,
    fears,
    birthday,
    style,
    tech,
    providers,
    specifics,
    projects,
    numbers,
]


def make_user(index: int, rng: random.Random) -> tuple[list[dict], list[dict]]:
    user = f"u{index:02d}"
    p = Persona(rng, rng.choice("mf"))
    chosen = rng.sample(TOPICS, rng.randint(27, len(TOPICS))) + [misc]
    for topic in chosen:
        topic(p)
    # Deduplicate texts within a user (two topics may draw the same sentence).
    seen: set[str] = set()
    memories: list[Memory] = []
    for m in p.memories:
        if m.text not in seen:
            seen.add(m.text)
            memories.append(m)
    rng.shuffle(memories)
    mem_rows = [
        {"id": f"{user}-m{i:03d}", "user": user, "content": m.text, "tags": sorted(m.tags)}
        for i, m in enumerate(memories)
    ]
    years = sorted({t[5:] for m in memories for t in m.tags if t.startswith("year:")})
    for y in years:
        p.ask(
            ["what happened in {y}?", "anything from {y}?", "what did I do in {y}?"],
            [{f"year:{y}"}],
            "keyword",
            y=y,
        )
    candidates = []
    for q in p.queries:
        relevant = [
            row["id"]
            for row, m in zip(mem_rows, memories, strict=True)
            if any(s <= m.tags for s in q.relevant)
        ]
        if relevant and q.text not in {c[0].text for c in candidates}:
            candidates.append((q, relevant))
    keyword = [c for c in candidates if c[0].kind == "keyword"]
    mixed = [c for c in candidates if c[0].kind == "mixed"]
    semantic = [c for c in candidates if c[0].kind == "semantic"]
    n = rng.randint(*QUERIES_PER_USER)
    n_kw = min(len(keyword), max(1, round(n * 0.25)))
    n_mixed = min(len(mixed), max(1, round(n * 0.25)))
    picked = (
        rng.sample(keyword, n_kw)
        + rng.sample(mixed, n_mixed)
        + rng.sample(semantic, min(len(semantic), n - n_kw - n_mixed))
    )
    split = "dev" if index < DEV_USERS else "test"
    query_rows = [
        {
            "id": f"{user}-q{i}",
            "user": user,
            "split": split,
            "kind": q.kind,
            "query": q.text,
            "relevant": rel,
        }
        for i, (q, rel) in enumerate(picked)
    ]
    return mem_rows, query_rows


def write_set(out: Path, memories: list[dict], queries: list[dict]) -> None:
    """Write `memories.jsonl` and `queries.jsonl` into `out`, one JSON object a line
    (also used by `retrieval_conversations.py`)."""
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in (("memories.jsonl", memories), ("queries.jsonl", queries)):
        with (out / name).open("w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def main() -> int:
    rng = random.Random(SEED)
    memories, queries = [], []
    for i in range(USERS):
        m, q = make_user(i, rng)
        memories += m
        queries += q
    write_set(OUT, memories, queries)
    per_user = [sum(1 for m in memories if m["user"] == f"u{i:02d}") for i in range(USERS)]
    print(
        f"{len(memories)} memories ({min(per_user)}-{max(per_user)} per user), "
        f"{len(queries)} queries "
        f"({sum(q['split'] == 'dev' for q in queries)} dev, "
        f"{sum(q['split'] == 'test' for q in queries)} test; "
        f"{sum(q['kind'] == 'keyword' for q in queries)} keyword, "
        f"{sum(q['kind'] == 'mixed' for q in queries)} mixed)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
