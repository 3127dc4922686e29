"""scripts/check_platforms.py: the runtime dependencies install from wheels on every
supported platform and Python, and the check fails when one does not. Needs PyPI."""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "check_platforms.py"


def _check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def _pyproject(tmp_path: Path, *dependencies: str) -> str:
    path = tmp_path / "pyproject.toml"
    listed = ", ".join(repr(d) for d in dependencies)
    path.write_text(f'[project]\nname = "mnemo"\nversion = "0"\ndependencies = [{listed}]\n')
    return str(path)


def test_every_platform_and_python_installs_from_wheels() -> None:
    done = _check("--verbose")
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}{done.stderr}"
    lines = done.stdout.splitlines()
    assert lines[-1].startswith("15 of 15 targets install"), done.stdout
    wheels = {
        " ".join(line.split()[1:4]).rstrip(":"): set(lines[n + 1].split())
        for n, line in enumerate(lines)
        if line.startswith("ok ")
    }
    assert len(wheels) == 15, done.stdout
    # The dependencies are walked with each target's markers, not this machine's:
    # uvicorn[standard] needs uvloop except on Windows; click needs colorama only there.
    names = {target: {pin.split("==")[0] for pin in pins} for target, pins in wheels.items()}
    assert "uvloop" in names["linux-x86_64 CPython 3.12"]
    assert "uvloop" not in names["windows-x86_64 CPython 3.12"]
    assert "colorama" in names["windows-x86_64 CPython 3.12"]
    assert "colorama" not in names["macos-arm64 CPython 3.12"]


def test_a_dependency_without_a_wheel_fails_naming_platform_python_and_package(
    tmp_path: Path,
) -> None:
    # pysqlite3-binary has wheels for manylinux x86-64 only; Linux's pick of it must not
    # pass for Windows', though the targets share what cannot differ between them
    pyproject = _pyproject(tmp_path, "filelock>=3.13", "pysqlite3-binary>=0.5")
    targets = ("--platform", "linux-x86_64", "--platform", "windows-x86_64")
    done = _check("--pyproject", pyproject, *targets, "--python", "3.12", "--python", "3.13")
    assert done.returncode == 1, done.stdout + done.stderr
    for python in ("3.12", "3.13"):
        assert f"FAIL  windows-x86_64  CPython {python}: no wheel for pysqlite3-binary>=0.5" in (
            done.stdout
        ), done.stdout
        assert f"ok    linux-x86_64    CPython {python}: 2 packages" in done.stdout, done.stdout
    assert "needed by mnemo" in done.stdout
    assert done.stdout.splitlines()[-1].startswith("2 of 4 targets install"), done.stdout


@pytest.mark.parametrize(
    ("marker", "python", "expected"),
    [
        ("sys_platform == 'linux'", "3.12", 0),  # not needed on Windows
        ("sys_platform == 'win32'", "3.12", 1),
        # this machine runs 3.11: the marker must be read for the target's Python
        ("python_version < '3.12'", "3.12", 0),
        ("python_version < '3.12'", "3.11", 1),
    ],
)
def test_markers_are_read_for_the_target(
    tmp_path: Path, marker: str, python: str, expected: int
) -> None:
    pyproject = _pyproject(tmp_path, f"pysqlite3-binary; {marker}")
    done = _check("--pyproject", pyproject, "--platform", "windows-x86_64", "--python", python)
    assert done.returncode == expected, done.stdout + done.stderr


def test_an_unreachable_index_is_no_answer_rather_than_missing_wheels(tmp_path: Path) -> None:
    # pip says "No matching distribution" for an index it cannot reach, too
    pyproject = _pyproject(tmp_path, "filelock>=3.13")
    args = ("--pyproject", pyproject, "--platform", "linux-x86_64", "--python", "3.12")
    done = _check(*args, "--index-url", "http://127.0.0.1:9/simple")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "ERROR linux-x86_64    CPython 3.12: " in done.stdout, done.stdout
    assert "1 could not be checked" in done.stdout.splitlines()[-1], done.stdout


@pytest.fixture
def index_failing_idna() -> Iterator[str]:
    """PyPI's listings through a real HTTP server, which fails to list idna."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
            if self.path.rstrip("/").endswith("/idna"):
                self.send_error(500)
                return
            accept = {"Accept": "application/vnd.pypi.simple.v1+json"}
            url = f"https://pypi.org{self.path}"
            with urllib.request.urlopen(urllib.request.Request(url, headers=accept)) as got:
                body = got.read()
                self.send_response(200)
                self.send_header("Content-Type", got.headers["Content-Type"])
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple"
    finally:
        server.shutdown()
        server.server_close()


def test_an_index_failing_during_the_walk_is_no_answer_rather_than_a_missing_wheel(
    tmp_path: Path, index_failing_idna: str
) -> None:
    # httpx needs idna, a level down: its listing is read after the walk has begun
    pyproject = _pyproject(tmp_path, "httpx>=0.27")
    args = ("--pyproject", pyproject, "--platform", "linux-x86_64", "--python", "3.12")
    done = _check(*args, "--index-url", index_failing_idna)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"ERROR linux-x86_64    CPython 3.12: could not read {index_failing_idna}/idna/" in (
        done.stdout
    ), done.stdout
    assert "FAIL" not in done.stdout, done.stdout
