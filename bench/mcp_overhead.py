"""What a tool call of mnemo's MCP server costs over the same call by the Python client.

    .venv/bin/python bench/mcp_overhead.py [--calls 100] [--rounds 5]

Starts `mnemo serve` on a scratch SQLite file (rate limits off), stores 25 memories, then
times a list page of 25 in alternating rounds of `--calls` calls each: as
`AsyncClient.memories.list(limit=25)`, as the `get_memories` tool of `mnemo mcp` on stdio
(which sends that same call), and as the same tool at `/mcp` of the server (streamable
HTTP, one POST a call, sent in process to the route). Prints the median per call of each
and the ratios to the client's; on a shared machine compare the ratios, not the times.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mnemo_client import AsyncClient  # noqa: E402
from tests.e2e.server import start_server  # noqa: E402
from tests.e2e.test_mcp_http import http_session  # noqa: E402
from tests.e2e.test_mcp_stdio import stdio_session  # noqa: E402


async def _timed(calls: int, call: Callable[[], Awaitable[object]]) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        await call()
    return (time.perf_counter() - start) / calls


async def measure(base: str, key: str, calls: int, rounds: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"client": [], "mcp stdio": [], "mcp http": []}
    async with (
        AsyncClient(base_url=base, api_key=key) as client,
        stdio_session(base, key) as stdio,
        http_session(base, key) as http,
    ):
        await client.memories.create_batch([{"content": f"User owns book {n}"} for n in range(25)])
        for _ in range(rounds):
            times["client"].append(await _timed(calls, lambda: client.memories.list(limit=25)))
            times["mcp stdio"].append(
                await _timed(calls, lambda: stdio.call_tool("get_memories", {"limit": 25}))
            )
            times["mcp http"].append(
                await _timed(calls, lambda: http.call_tool("get_memories", {"limit": 25}))
            )
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env = {"MNEMO_RATE_LIMIT_ENABLED": "false"}
        server = start_server(f"sqlite:///{folder}/bench.db", extra_env=env)
        try:
            assert server.first_key
            times = asyncio.run(measure(server.base, server.first_key, args.calls, args.rounds))
        finally:
            server.stop()
    floor = statistics.median(times["client"])
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:10} {median * 1000:7.2f} ms a call  ×{median / floor:.2f}")


if __name__ == "__main__":
    main()
