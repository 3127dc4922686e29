"""What the Python client costs over raw httpx, on the same requests to one real server.

    .venv/bin/python bench/client_overhead.py [--calls 100] [--rounds 10]

Starts `mnemo serve` on a scratch SQLite file (rate limits off), stores 25 memories, then
times a list page of 25 as `Client.memories.list(limit=25)` (typed: pydantic models) and
as `httpx.Client.get(...).json()` (dicts) in alternating rounds of `--calls` calls on
one connection each, and prints the median per call of each and their ratio. Both
include the server's time, so the ratio is what a program sees; on a shared machine
compare the ratio, not the milliseconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mnemo_client import Client  # noqa: E402
from tests.e2e.server import start_server  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env = {"MNEMO_RATE_LIMIT_ENABLED": "false"}
        server = start_server(f"sqlite:///{folder}/bench.db", extra_env=env)
        try:
            assert server.first_key
            key = server.first_key
            with (
                Client(base_url=server.base, api_key=key) as client,
                httpx.Client(
                    base_url=server.base, headers={"Authorization": f"Bearer {key}"}
                ) as raw,
            ):
                items = [{"content": f"User owns book number {n}"} for n in range(25)]
                client.memories.create_batch(items)

                def typed() -> None:
                    client.memories.list(limit=25)

                def plain() -> None:
                    raw.get("/v1/dev/user/memories", params={"limit": 25}).json()

                ways: dict[str, Callable[[], None]] = {"httpx": plain, "Client": typed}
                times: dict[str, list[float]] = {name: [] for name in ways}
                for way in ways.values():  # warm up both
                    for _ in range(args.calls // 2):
                        way()
                for _ in range(args.rounds):
                    for name, way in ways.items():
                        started = time.perf_counter()
                        for _ in range(args.calls):
                            way()
                        times[name].append((time.perf_counter() - started) / args.calls * 1e3)
        finally:
            server.stop()
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, median in medians.items():
        print(f"{name:>7}: {median:.2f} ms a list page of 25")
    print(f"  ratio: {medians['Client'] / medians['httpx']:.2f} (Client / httpx)")


if __name__ == "__main__":
    main()
