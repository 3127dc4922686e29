"""Profile one route of a real `mnemo serve` under load (py-spy on the server process).

    .venv/bin/python bench/pyspy_profile.py --route list [--backend sqlite|postgres] [--seconds 8]
    .venv/bin/python bench/pyspy_profile.py --route list --pyinstrument   # HTML + text report

Imports a small data set (20 users x 1,000 memories and one user with 100,000), starts
one worker pinned to CPU 0, drives the route with wrk (32 connections, CPU 1) and
samples the server with py-spy (`--threads`, raw collapsed stacks), then prints
bench/pyspy_summary.py's breakdown. With --pyinstrument the server runs under
pyinstrument instead (its async mode follows await chains) and the report is written
at shutdown. Needs py-spy / pyinstrument in .venv (`.venv/bin/pip install py-spy
pyinstrument`); they are measurement tools, not mnemo dependencies.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import run  # noqa: E402

ROUTES = (
    "healthz",
    "list",
    "list_deep",
    "list_big",
    "list_big_deep",
    "get",
    "patch",
    "create",
    "batch",
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--route", choices=ROUTES, required=True)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--pyinstrument", action="store_true")
    parser.add_argument("--out", default="/tmp/mnemo-profile")
    parser.add_argument("--workdir")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="mnemo-profile-"))
    work.mkdir(parents=True, exist_ok=True)
    run.log("writing data")
    data_path, plan = run.profile_data(work)
    db = run.Database(args.backend, "profile", work)
    try:
        run.log("importing")
        db.fill(data_path)
        port = 18399
        tag = f"{args.backend}-{args.route}"
        if args.pyinstrument:
            html = out / f"{tag}.html"
            argv = [
                str(run.PYTHON),
                "-m",
                "pyinstrument",
                "--async_mode=enabled",
                "-r",
                "html",
                "-o",
                str(html),
                str(run.MNEMO),
                "serve",
                "--port",
                str(port),
                "--database-url",
                db.url,
                "--workers",
                "1",
                "--log-level",
                "warning",
            ]
            server = run.Server(
                "mnemo under pyinstrument", argv, port, run.SERVER_CPUS, work / "server.log"
            )
            server.wait_ready("/readyz")
        else:
            server = run.mnemo_server(db.url, port, 1, work)
        try:
            run.run_wrk("warm-up", plan[args.route if args.route != "create" else "get"], server, 2)
            raw = out / f"{tag}.raw"
            holder: dict[str, run.Measurement] = {}

            def load() -> None:
                holder["m"] = run.run_wrk(args.route, plan[args.route], server, args.seconds + 2)

            thread = threading.Thread(target=load)
            thread.start()
            if not args.pyinstrument:
                time.sleep(1)
                subprocess.run(
                    [
                        str(run.VENV / "bin" / "py-spy"),
                        "record",
                        "-p",
                        str(server.pid),
                        "-d",
                        str(args.seconds),
                        "-r",
                        "250",
                        "-f",
                        "raw",
                        "--threads",
                        "--subprocesses",  # the worker: Granian serves from a child process
                        "-o",
                        str(raw),
                    ],
                    check=True,
                    capture_output=True,
                )
            thread.join()
            m = holder["m"]
            run.log(
                f"{args.route}: {m.rps:,.0f} req/s, p50 {m.p50_ms:.1f} ms, p99 "
                f"{m.p99_ms:.1f} ms, server CPU {m.server_cpu:.2f}, other {m.other_cpu:.2f}"
            )
        finally:
            server.stop()
        if args.pyinstrument:
            run.log(f"pyinstrument report: {html}")
        else:
            subprocess.run(
                [str(run.PYTHON), str(BENCH / "pyspy_summary.py"), str(raw), "--top", "40"],
                check=True,
            )
            run.log(f"raw profile: {raw}")
    finally:
        db.drop()
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
