"""scripts/check_platforms.py: the runtime dependencies install from wheels on every
supported platform and Python, and the check fails when one does not. Needs PyPI."""

from __future__ import annotations

import subprocess
import sys
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
    # pysqlite3-binary has wheels for manylinux x86-64 only
    pyproject = _pyproject(tmp_path, "filelock>=3.13", "pysqlite3-binary>=0.5")
    done = _check("--pyproject", pyproject, "--platform", "windows-x86_64", "--python", "3.12")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAIL  windows-x86_64  CPython 3.12: no wheel for pysqlite3-binary>=0.5" in (
        done.stdout
    ), done.stdout
    assert "needed by mnemo" in done.stdout


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
