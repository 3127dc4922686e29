"""The directory where the workers of one `mnemo serve` keep their metrics.

`mnemo serve` makes a fresh directory for each run (`for_run`: under the system's
temporary directory, `mnemo-metrics-*`, readable by its owner only), names it in
`PROMETHEUS_MULTIPROC_DIR` before the workers start (prometheus_client reads the
variable when it is imported, so each worker's metrics live there from its first
value), and removes it when the server stops. A value of that variable set before
`mnemo serve` runs is replaced: the directory must be empty at the start of a run, and
one the operator chose might hold other files.

Each worker writes `worker-<pid>.pid` there when its metrics are built. A worker that
stops marks itself dead (`worker_exited`: prometheus_client's `mark_process_dead`, so
its live gauges leave the sums); one that was killed (kill -9, out of memory) cannot,
so a scrape marks dead every registered worker whose process no longer exists
(`mark_dead_workers`). Counters and histograms of a dead worker stay and keep counting
in the sums, as prometheus_client documents: nothing is lost when a worker is replaced.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from prometheus_client.multiprocess import mark_process_dead

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
_PREFIX = "mnemo-metrics-"


def current() -> str | None:
    """The multiprocess directory of this process, if any."""
    return os.environ.get(VARIABLE) or None


@contextlib.contextmanager
def for_run() -> Iterator[str]:
    """A fresh directory, named in `PROMETHEUS_MULTIPROC_DIR` while the block runs, then
    removed (the variable restored)."""
    path = tempfile.mkdtemp(prefix=_PREFIX)
    before = os.environ.get(VARIABLE)
    os.environ[VARIABLE] = path
    try:
        yield path
    finally:
        if before is None:
            os.environ.pop(VARIABLE, None)
        else:
            os.environ[VARIABLE] = before
        shutil.rmtree(path, ignore_errors=True)


def register_worker(path: str, pid: int | None = None) -> None:
    """Record this worker (`pid`: this process) as one whose metrics are in `path`."""
    with contextlib.suppress(OSError):  # the run is ending: nothing left to record
        _pid_file(path, pid or os.getpid()).touch()


def worker_exited(path: str, pid: int) -> None:
    """The worker `pid` stopped: its live gauges leave the sums."""
    with contextlib.suppress(OSError):  # the directory went with the run
        mark_process_dead(pid, path)  # type: ignore[no-untyped-call]
        _pid_file(path, pid).unlink(missing_ok=True)


def mark_dead_workers(path: str) -> None:
    """Mark dead every registered worker whose process no longer exists."""
    for pid_file in Path(path).glob("worker-*.pid"):
        pid = int(pid_file.stem.removeprefix("worker-"))
        if not _alive(pid):
            worker_exited(path, pid)


def _pid_file(path: str, pid: int) -> Path:
    return Path(path) / f"worker-{pid}.pid"


def _alive(pid: int) -> bool:
    """Whether process `pid` exists (on Windows, where signal 0 would end it, every
    process counts as alive: a killed worker's live gauges then stay until the run ends)."""
    if os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, as another user's
        return True
    return True
