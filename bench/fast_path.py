"""A quick side-by-side of the fast path (mnemo.api.fast) and the FastAPI path.

    .venv/bin/python bench/fast_path.py [--duration 5] [--memories 100]
        [--backend sqlite|postgres] [--limits both|off|on]

One `mnemo serve` worker on a fresh SQLite file (or a fresh schema of the PostgreSQL
server at 127.0.0.1:5432, `--backend postgres`), started four times: fast path on and
off (`MNEMO_FAST_PATH`), rate limits off and on (on: the reads policy with a limit too
high to reach, so every request is counted but none refused; `--limits` picks one).
The memories are created once, and measuring starts when the server has embedded
them and is idle (`run.wait_idle`). Each is measured with
wrk (32 connections, one thread) on list-25 (`?limit=25`) and get-by-id (cycling
through the user's ids); the FastAPI floors (bench/floor.py: hello-world, and the
same list and get-by-id shapes) are measured before and after, and every figure is
given as a ratio to the hello-world floor's mean and to that of its own shape.
Pinning and priorities are bench/run.py's (server on CPU 0, wrk on CPU 1).
This is the quick check of one change, not the benchmark: that is bench/run.py.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import (  # noqa: E402
    ENV,
    MNEMO,
    SERVER_CPUS,
    Database,
    Measurement,
    Server,
    floor_server,
    run_wrk,
    wait_idle,
    write_plan,
)

MEMORIES = "/v1/dev/user/memories"


def _post(port: int, key: str, path: str, body: object) -> object:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def _get(port: int, key: str, path: str) -> object:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {key}"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--memories", type=int, default=100)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--limits", choices=("both", "off", "on"), default="both")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mnemo-fastpath-"))
    database = Database(args.backend, "fastpath", work)
    try:
        measure(args, work, database.url)
    finally:
        database.drop()


def measure(args: argparse.Namespace, work: Path, url: str) -> None:
    made = subprocess.run(
        [str(MNEMO), "keys", "create", "--user", "bench", "--database-url", url],
        capture_output=True,
        text=True,
        check=True,
        env=ENV,
    )
    key = made.stdout.strip().splitlines()[-1]
    port = 18610
    configs = [
        ("FastAPI path, limits off", {"MNEMO_FAST_PATH": "false"}),
        ("fast path, limits off", {"MNEMO_FAST_PATH": "true"}),
        ("FastAPI path, limits on", {"MNEMO_FAST_PATH": "false"}),
        ("fast path, limits on", {"MNEMO_FAST_PATH": "true"}),
    ]
    configs = [(n, e) for n, e in configs if args.limits in ("both", n.rpartition(" ")[2])]
    floors: dict[str, list[Measurement]] = {"hello-world": [], "list-25": [], "get-by-id": []}
    rows: list[Measurement] = []
    any_id = "0193a0b4-7c2e-7d1a-8b3c-1234567890ab"  # the floor answers any id alike
    floor_plans = {
        "hello-world": [("GET", "/", "", "")],
        "list-25": [("GET", f"{MEMORIES}?limit=25", key, "")],
        "get-by-id": [("GET", f"{MEMORIES}/{any_id}", key, "")],
    }

    def floor() -> None:
        nonlocal port
        port += 1
        server = floor_server("fastapi", port, 1, work)
        try:
            for shape, lines in floor_plans.items():
                plan = write_plan(work / "floor.tsv", lines)
                run_wrk("floor", plan, server, 1)
                measured = run_wrk(f"FastAPI floor, {shape}", plan, server, args.duration)
                floors[shape].append(measured)
        finally:
            server.stop()

    floor()
    ids: list[str] = []
    for name, extra in configs:
        port += 1
        env = {**extra}
        if "limits on" in name:
            env |= {"MNEMO_RATE_LIMIT_ENABLED": "true", "MNEMO_RATE_LIMIT_READS": "1000000000"}
        argv = [str(MNEMO), "serve", "--port", str(port), "--database-url", url]
        argv += ["--workers", "1", "--log-level", "warning"]
        server = Server(name, argv, port, SERVER_CPUS, work / f"server-{port}.log", env=env)
        try:
            server.wait_ready("/readyz")
            if not ids:
                for batch in range(0, args.memories, 25):
                    items = [
                        {"content": f"User fact number {i} about topic {i * 7919 % 1009}"}
                        for i in range(batch, min(batch + 25, args.memories))
                    ]
                    _post(port, key, f"{MEMORIES}/batch", {"memories": items})
                listed = _get(port, key, f"{MEMORIES}?limit=1000")
                assert isinstance(listed, list)
                ids = [item["id"] for item in listed]
                wait_idle(server)  # the new memories' embeddings are computed
            plans = {
                "list-25": write_plan(
                    work / "list.tsv", [("GET", f"{MEMORIES}?limit=25", key, "")]
                ),
                "get-by-id": write_plan(
                    work / "get.tsv", [("GET", f"{MEMORIES}/{i}", key, "") for i in ids]
                ),
            }
            for route, plan in plans.items():
                run_wrk(route, plan, server, 1)
                measured = run_wrk(f"{route}: {name}", plan, server, args.duration)
                rows.append(measured)
        finally:
            server.stop()
    floor()
    base = {shape: statistics.fmean(m.rps for m in ms) for shape, ms in floors.items()}
    print(
        f"| measured ({len(ids)} memories, {args.backend}, 1 worker, wrk -c32) | req/s "
        "| × hello-world floor | × floor of its shape | p50 ms | p99 ms | errors |"
    )
    print("|---|---|---|---|---|---|---|")
    for m in [*itertools.chain(*floors.values()), *rows]:
        shape = next(s for s in base if s in m.route)
        print(
            f"| {m.route} | {m.rps:,.0f} | {m.rps / base['hello-world']:.2f} "
            f"| {m.rps / base[shape]:.2f} | {m.p50_ms:.2f} | {m.p99_ms:.2f} | {m.errors} |"
        )


if __name__ == "__main__":
    main()
