"""Two source trees of mnemo on one route, in turns, against the FastAPI floor of the
route's shape, in one session: what a change buys, as ratios that survive a noisy machine.

    .venv/bin/python bench/ab.py --route create --baseline DIR [--rounds 3] [--seconds 5]

DIR is another checkout's `src` (e.g. `git worktree add /tmp/base HEAD~1`, then
`--baseline /tmp/base/src`): its `mnemo` runs with `PYTHONPATH=DIR`, this checkout's
as installed in .venv. SQLite only. The data is bench/pyspy_profile.py's (20 users of
1,000 memories and one of 100,000), filled once; each measurement of mnemo runs on a
fresh copy of that file, so the plan's writes are new content every time (repeated
content would measure the duplicate check). Each round measures the floor, then the
baseline, then this tree (one worker on CPU 0, wrk on CPU 1, 32 connections, as
bench/run.py); printed: req/s, p50 and p99 of each, the server's CPU (cores busy, and
CPU time per request), and each tree's ratio to the floor measured in its round.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import run  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    routes = sorted(route for route in run.SHAPES.values() if route)
    parser.add_argument("--route", choices=routes, required=True)
    parser.add_argument("--baseline", required=True, help="the other tree's src directory")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    baseline = Path(args.baseline).resolve()
    if not (baseline / "mnemo" / "__init__.py").is_file():
        parser.error(f"{baseline} is not a src directory holding mnemo/")
    work = Path(tempfile.mkdtemp(prefix="mnemo-ab-"))
    try:
        run.log("writing data")
        data_path, plan = run.profile_data(work)
        filled = run.Database("sqlite", "filled", work)
        run.log("filling")
        filled.fill(data_path)
        shape = run.shape_of(args.route)
        ratios: dict[str, list[float]] = {"baseline": [], "this tree": []}
        for number in range(1, args.rounds + 1):
            floor = run.floor_server("fastapi", 18400, 1, work)
            try:
                run.run_wrk("warm-up", plan[args.route], floor, 1)
                measured = run.run_wrk(shape, plan[args.route], floor, args.seconds)
            finally:
                floor.stop()
            floor_rps = measured.rps
            print(f"round {number}: floor ({shape}) {floor_rps:,.0f} req/s", flush=True)
            for name, tree in (("baseline", baseline), ("this tree", None)):
                copy = work / f"round{number}-{name.replace(' ', '')}.db"
                shutil.copyfile(filled.path, copy)
                env = None if tree is None else {"PYTHONPATH": str(tree)}
                server = run.mnemo_server(f"sqlite:///{copy}", 18401, 1, work, env)
                try:
                    run.run_wrk("warm-up", plan["get"], server, 1)
                    m = run.run_wrk(args.route, plan[args.route], server, args.seconds)
                finally:
                    server.stop()
                ratios[name].append(m.rps / floor_rps)
                print(
                    f"  {name}: {m.rps:,.0f} req/s ({m.rps / floor_rps:.2f}x the floor),"
                    f" p50 {m.p50_ms:.1f} ms, p99 {m.p99_ms:.1f} ms, errors {m.errors},"
                    f" server CPU {m.server_cpu:.2f} ({m.server_cpu / m.rps * 1e6:,.0f} µs a"
                    f" request), other CPU {m.other_cpu:.2f}",
                    flush=True,
                )
        for name, values in ratios.items():
            print(f"{name}: median {statistics.median(values):.2f}x the floor over {len(values)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
