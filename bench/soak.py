"""Soak: sustained mixed load from concurrent clients against a real `mnemo serve`, with
a count of requests, errors and the server's memory over time, and a final check that
every acknowledged write is stored (and every acknowledged delete is gone).

    .venv/bin/python bench/soak.py --minutes 5 --clients 32 [--database-url URL] [--workers N]

Writes bench/results/soak-<date>.md. The test suite runs a short version
(tests/e2e/test_soak.py)."""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.e2e.server import start_server  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import UNLIMITED  # noqa: E402

# The soak checks that nothing is lost under sustained load, every answer a 200: no rate
# limits, no admission bounds (tests/e2e/test_fair_share_e2e.py checks those).
SERVER_ENV = UNLIMITED

MEMORIES = "/v1/dev/user/memories"
FACTS = [
    "User is vegetarian",
    "User's sister Sarah lives in Portland",
    "User prefers tea to coffee",
    "User ran the Boston Marathon in 2019",
    "User works as a nurse on night shifts",
    "User is allergic to peanuts",
    "User plays the cello in a community orchestra",
    "User's dog Rex is a three-year-old beagle",
    "User climbed Kilimanjaro last spring",
]


@dataclass
class Report:
    seconds: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: int = 0
    rss_kib: list[int] = field(default_factory=list)
    expected: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)
    lost: int = 0
    resurrected: int = 0

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def errors(self) -> int:
        return self.transport_errors + sum(n for s, n in self.statuses.items() if s >= 500)


def _rss_kib(pid: int) -> int:
    """Resident memory of a process and its children (the workers), in KiB."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for each in pids:
        try:
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


async def _client(
    base: str, headers: dict[str, str], report: Report, deadline: float, seed: int
) -> None:
    rng = random.Random(seed)
    mine: list[str] = []
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
        while time.monotonic() < deadline:
            roll = rng.random()
            try:
                if roll < 0.25:
                    response = await client.post(
                        MEMORIES,
                        json={"content": f"{rng.choice(FACTS)} ({seed}-{rng.random():.6f})"},
                    )
                    if response.status_code == 200 and "duplicate_of" not in response.json():
                        mine.append(response.json()["id"])
                        report.expected.add(mine[-1])
                elif roll < 0.30:
                    response = await client.post(
                        f"{MEMORIES}/batch",
                        json={
                            "memories": [
                                {"content": f"{rng.choice(FACTS)} #{i}", "category": "system"}
                                for i in range(rng.randint(1, 25))
                            ]
                        },
                    )
                    if response.status_code == 200:
                        ids = [
                            m["id"] for m in response.json()["memories"] if "duplicate_of" not in m
                        ]
                        mine += ids
                        report.expected.update(ids)
                elif roll < 0.40 and mine:
                    memory_id = mine.pop(rng.randrange(len(mine)))
                    response = await client.delete(f"{MEMORIES}/{memory_id}")
                    if response.status_code == 200:
                        report.expected.discard(memory_id)
                        report.deleted.add(memory_id)
                elif roll < 0.50 and mine:
                    response = await client.patch(
                        f"{MEMORIES}/{rng.choice(mine)}", json={"tags": [str(rng.randint(0, 9))]}
                    )
                elif roll < 0.60 and mine:
                    response = await client.get(f"{MEMORIES}/{rng.choice(mine)}")
                else:
                    response = await client.get(
                        MEMORIES, params={"limit": 25, "offset": rng.choice([0, 0, 0, 25, 100])}
                    )
                report.statuses[response.status_code] += 1
            except httpx.TransportError:
                report.transport_errors += 1


async def soak(base: str, key: str, pid: int, seconds: float, clients: int) -> Report:
    """Run the load, then verify what is stored against what was acknowledged."""
    report = Report()
    headers = {"Authorization": f"Bearer {key}"}
    started = time.monotonic()
    deadline = started + seconds

    async def sample() -> None:
        while time.monotonic() < deadline:
            report.rss_kib.append(_rss_kib(pid))
            await asyncio.sleep(1)

    await asyncio.gather(
        sample(), *(_client(base, headers, report, deadline, n) for n in range(clients))
    )
    report.seconds = time.monotonic() - started
    report.rss_kib.append(_rss_kib(pid))
    stored: set[str] = set()
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        while page := (
            await client.get(MEMORIES, params={"limit": 1000, "offset": len(stored)})
        ).json():
            stored.update(m["id"] for m in page)
    report.lost = len(report.expected - stored)
    report.resurrected = len(report.deleted & stored)
    return report


def markdown(report: Report, title: str) -> str:
    rss = report.rss_kib
    lines = [
        f"# {title}",
        "",
        f"- machine: {platform.platform()}, {os.cpu_count()} cores,"
        f" Python {platform.python_version()}",
        f"- duration: {report.seconds:.0f} s; requests: {report.requests:,} "
        f"({report.requests / max(report.seconds, 1e-9):.0f}/s)",
        f"- statuses: {dict(sorted(report.statuses.items()))}; transport errors: "
        f"{report.transport_errors}; 5xx: {sum(n for s, n in report.statuses.items() if s >= 500)}",
        f"- acknowledged writes lost: {report.lost}; acknowledged deletes come back: "
        f"{report.resurrected}",
        f"- server memory (RSS, all processes): start {rss[0] / 1024:.1f} MiB, "
        f"peak {max(rss) / 1024:.1f} MiB, end {rss[-1] / 1024:.1f} MiB",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--database-url", default=None)
    options = parser.parse_args()
    scratch = Path("bench/results/.soak")
    scratch.mkdir(parents=True, exist_ok=True)
    url = options.database_url or f"sqlite:///{scratch.resolve()}/soak-{os.getpid()}.db"
    server = start_server(url, workers=options.workers, extra_env=SERVER_ENV)
    try:
        report = asyncio.run(
            soak(
                server.base,
                server.first_key or "",
                server.process.pid,
                options.minutes * 60,
                options.clients,
            )
        )
    finally:
        server.stop()
    backend = url.split(":", 1)[0]
    text = markdown(
        report,
        f"Soak {date.today()}: {options.clients} clients, {options.workers} worker(s), {backend}",
    )
    out = Path(f"bench/results/soak-{date.today()}-{backend}.md")
    out.write_text(text)
    print(text)
    print(f"written to {out}")


if __name__ == "__main__":
    main()
