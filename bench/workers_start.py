"""Start `mnemo serve --workers N` while CPU burners keep every core busy, and count the
workers uvicorn's supervisor reports as died (its health check kills a worker that does
not answer in time). Loopback only; every process it starts stops by itself.

    .venv/bin/python bench/workers_start.py [--burners 16] [--seconds 50] [--workers 2]

Prints the number of "Child process [...] died" lines and of workers that finished
their start-up; 0 died is the expected outcome (see the README's command line section).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _burn(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burners", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=50)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    mnemo = Path(sys.executable).with_name("mnemo")  # the console script, as users run it
    burners = [
        multiprocessing.Process(target=_burn, args=(args.seconds + 5,)) for _ in range(args.burners)
    ]
    for burner in burners:
        burner.start()
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "serve.log"
        with open(log, "w") as sink:
            server = subprocess.Popen(
                [str(mnemo), "serve", "--port", "0", "--workers", str(args.workers),
                 "--database-url", f"sqlite:///{folder}/m.db"],
                stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )  # fmt: skip
            time.sleep(args.seconds)
            os.kill(server.pid, signal.SIGTERM)  # the supervisor stops its workers
            server.wait(timeout=60)
        text = log.read_text()
    for burner in burners:
        burner.join()
    died = sum("died" in line for line in text.splitlines())
    started = text.count("Application startup complete")
    print(f"{args.workers} workers, {args.burners} burners, {args.seconds:.0f} s: "
          f"{died} died, {started} finished starting")  # fmt: skip


if __name__ == "__main__":
    main()
