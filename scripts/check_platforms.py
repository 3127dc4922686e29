#!/usr/bin/env python3
"""Check that mnemo's runtime dependencies install from wheels on every supported platform.

For each platform below and each CPython 3.11, 3.12 and 3.13, this asks pip which
wheels on PyPI an install of `pyproject.toml`'s `[project] dependencies` would use
(`pip install --dry-run --only-binary=:all: --platform ... --python-version ...`;
with PyPI's PEP 658 metadata only metadata is downloaded, from a mirror without it whole
wheels), and exits 1 naming every platform, Python and package that has no wheel.

Sdists are never accepted, not even pure-Python ones: whether an sdist builds without
a compiler on a user's machine cannot be known without building it there, and every
dependency has wheels today. A dependency that ships only an sdist fails the check.

pip evaluates environment markers (`sys_platform == "win32"`, `python_version < "3.12"`)
for the interpreter running it, not for `--platform`/`--python-version` (pip issues
6117 and 10050), so a plain `pip install --platform win_amd64 uvicorn[standard]` wrongly
asks for uvloop, and never asks for what only Windows needs. So the dependency tree is
walked here: pip picks the newest version of each package that has a wheel for the target
(`--no-deps`), its dependencies are read from the metadata in pip's report with markers
evaluated for the target (`packaging`), and pip is asked again for the grown set until
it stops growing. Unlike pip's resolver this walk does not backtrack: requirements on
one package that no single version meets are reported as a failure (naming the package
and the merged specifiers), never passed over.

Needs PyPI (or `--index-url` of a mirror). Machine-local pip configuration (indexes,
find-links, constraints) is ignored: only what the index serves counts. Exit 0: every
target installs; 1: some lack a wheel (listed); 2: the index could not be asked.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

PYTHONS = ("3.11", "3.12", "3.13")
MACOS = 13  # the oldest macOS checked (Ventura); anything newer accepts the same wheels
GLIBC = 28  # the oldest glibc checked, 2.28 (Debian 10, Ubuntu 20.04, RHEL 8 and later)
INDEX_URL = "https://pypi.org/simple"
MAX_ROUNDS = 20  # a walk that has not settled by then is reported as an error
PIP_TIMEOUT_S = 600  # one pip call (it retries a slow index itself)


def _manylinux(arch: str) -> tuple[str, ...]:
    """Every manylinux tag a glibc 2.GLIBC system on `arch` accepts, newest first."""
    tags = [f"manylinux_2_{minor}_{arch}" for minor in range(GLIBC, 16, -1)]
    tags.append(f"manylinux2014_{arch}")  # = manylinux_2_17
    if arch == "x86_64":
        tags += ["manylinux_2_12_x86_64", "manylinux2010_x86_64"]
        tags += ["manylinux_2_5_x86_64", "manylinux1_x86_64"]
    return tuple(tags)


@dataclass(frozen=True)
class Platform:
    name: str
    tags: tuple[str, ...]  # pip --platform values (pip adds older macOS versions itself)
    markers: dict[str, str]  # PEP 508 environment, less the Python version

    def environment(self, python: str) -> dict[str, str]:
        # The patch level cannot be known: X.Y.0 is assumed; a platform's release and
        # version cannot either, and are left empty.
        full = f"{python}.0"
        return {
            "implementation_name": "cpython",
            "implementation_version": full,
            "platform_python_implementation": "CPython",
            "python_version": python,
            "python_full_version": full,
            "platform_release": "",
            "platform_version": "",
            **self.markers,
        }


def _markers(os_name: str, sys_platform: str, system: str, machine: str) -> dict[str, str]:
    return {
        "os_name": os_name,
        "sys_platform": sys_platform,
        "platform_system": system,
        "platform_machine": machine,
    }


PLATFORMS = (
    Platform("linux-x86_64", _manylinux("x86_64"), _markers("posix", "linux", "Linux", "x86_64")),
    Platform(
        "linux-aarch64", _manylinux("aarch64"), _markers("posix", "linux", "Linux", "aarch64")
    ),
    Platform(
        "macos-arm64", (f"macosx_{MACOS}_0_arm64",), _markers("posix", "darwin", "Darwin", "arm64")
    ),
    Platform(
        "macos-x86_64",
        (f"macosx_{MACOS}_0_x86_64",),
        _markers("posix", "darwin", "Darwin", "x86_64"),
    ),
    Platform("windows-x86_64", ("win_amd64",), _markers("nt", "win32", "Windows", "AMD64")),
)


class PipError(Exception):
    """pip failed for a reason other than a missing wheel (network, bad requirement)."""


@dataclass
class Result:
    platform: str
    python: str
    pins: dict[str, str] = field(default_factory=dict)  # name -> version
    missing: dict[str, str] = field(default_factory=dict)  # requirement -> who needs it
    error: str = ""


@dataclass
class _Wanted:
    """One package the target needs: the merged specifiers, extras and first requirer."""

    name: str
    specifier: SpecifierSet
    extras: set[str]
    needed_by: str

    def requirement(self) -> str:
        extras = f"[{','.join(sorted(self.extras))}]" if self.extras else ""
        return f"{self.name}{extras}{self.specifier}"


# pip's words for a requirement no wheel satisfies (pip 22 to 26)
_NOT_FOUND = re.compile(r"No matching distribution found for (\S+)")
_UNREACHABLE = re.compile(r"Retrying \(Retry\(|Could not fetch URL")

Pip = Callable[[Platform, str, list[str]], dict[str, dict[str, Any]]]


def run_pip(
    platform: Platform, python: str, requirements: list[str], index_url: str = INDEX_URL
) -> dict[str, dict[str, Any]]:
    """The metadata of the wheels pip picks for `requirements` (no dependencies) on the
    target, by canonical name; raises LookupError(requirement) if one has no wheel."""
    with tempfile.TemporaryDirectory(prefix="check-platforms-") as target:
        command = [sys.executable, "-m", "pip", "--isolated", "install", "--dry-run", "--quiet"]
        command += ["--ignore-installed", "--no-deps", "--only-binary=:all:", "--target", target]
        command += ["--implementation", "cp", "--python-version", python]
        for tag in platform.tags:
            command += ["--platform", tag]
        command += ["--index-url", index_url, "--report", "-", *requirements]
        # --isolated ignores PIP_* variables and the user's configuration; this ignores
        # the machine's too (global and site files: indexes, find-links, constraints).
        env = {**os.environ, "PIP_CONFIG_FILE": os.devnull}
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, env=env, timeout=PIP_TIMEOUT_S
            )
        except subprocess.TimeoutExpired:
            raise PipError(f"pip did not answer in {PIP_TIMEOUT_S} s") from None
    if done.returncode != 0:
        found = _NOT_FOUND.search(done.stderr)
        # of an index it cannot reach, pip says "no matching distribution" too
        unreachable = _UNREACHABLE.search(done.stderr)
        if found and not unreachable:
            raise LookupError(found.group(1))
        if unreachable:
            line = done.stderr[unreachable.start() :].splitlines()[0]
            raise PipError(f"could not ask {index_url}: {line}")
        raise PipError(done.stderr.strip() or f"pip exited {done.returncode}")
    report = json.loads(done.stdout)
    return {canonicalize_name(i["metadata"]["name"]): i["metadata"] for i in report["install"]}


def _wanted(
    top: list[Requirement], pins: dict[str, dict[str, Any]], env: dict[str, str], skip: set[str]
) -> dict[str, _Wanted]:
    """What the target needs: `top` and, for each of them pip has picked, its
    dependencies whose markers hold on the target, again and again."""
    wanted: dict[str, _Wanted] = {}
    expanded: dict[str, set[str]] = {}  # name -> the extras whose dependencies are in

    def add(requirement: Requirement, needed_by: str, extras: Iterable[str]) -> None:
        if requirement.marker and not any(
            requirement.marker.evaluate({**env, "extra": extra}) for extra in extras
        ):
            return
        name = canonicalize_name(requirement.name)
        if name in skip:
            return
        if name not in wanted:
            wanted[name] = _Wanted(name, SpecifierSet(), set(), needed_by)
        entry = wanted[name]
        entry.specifier &= requirement.specifier
        entry.extras |= {canonicalize_name(e) for e in requirement.extras}

    for requirement in top:
        add(requirement, "mnemo", [""])
    changed = True
    while changed:
        changed = False
        for name, entry in list(wanted.items()):
            if name not in pins or expanded.get(name) == entry.extras:
                continue
            expanded[name] = set(entry.extras)
            for line in pins[name].get("requires_dist") or []:
                add(Requirement(line), name, ["", *entry.extras])
            changed = True
    return wanted


def _fits(wanted: _Wanted, pin: dict[str, Any] | None) -> bool:
    return pin is not None and wanted.specifier.contains(pin["version"], prereleases=True)


def check(top: list[Requirement], platform: Platform, python: str, pip: Pip = run_pip) -> Result:
    """Walk `top`'s dependency tree for one target; `pip` picks the wheels."""
    result = Result(platform.name, python)
    env = platform.environment(python)
    pins: dict[str, dict[str, Any]] = {}
    skip: set[str] = set()  # packages without a wheel: out of the walk, with what only they need
    for _ in range(MAX_ROUNDS):
        wanted = _wanted(top, pins, env, skip)
        pins = {name: pin for name, pin in pins.items() if name in wanted}
        # ask only for what has no wheel yet, or one its merged specifiers now exclude
        ask = [w for n, w in wanted.items() if not _fits(w, pins.get(n))]
        if not ask:
            result.pins = {name: pins[name]["version"] for name in sorted(pins)}
            return result
        try:
            pins |= pip(platform, python, [w.requirement() for w in ask])
        except LookupError as missing:
            name = canonicalize_name(Requirement(str(missing)).name)
            if name not in wanted:
                result.error = f"pip found no wheel for {missing}, which was not asked for"
                return result
            result.missing[wanted[name].requirement()] = wanted[name].needed_by
            skip.add(name)  # and go on, to find every missing wheel, not only the first
        except PipError as error:
            result.error = str(error)
            return result
    result.error = f"the dependencies did not settle in {MAX_ROUNDS} rounds"
    return result


def runtime_requirements(pyproject: Path) -> list[Requirement]:
    with pyproject.open("rb") as file:
        project = tomllib.load(file)["project"]
    return [Requirement(line) for line in project.get("dependencies", [])]


def _line(result: Result) -> str:
    where = f"{result.platform:<15} CPython {result.python}"
    if result.error:
        return f"ERROR {where}: {result.error}"
    if result.missing:
        lacking = "; ".join(f"{req} (needed by {by})" for req, by in result.missing.items())
        return f"FAIL  {where}: no wheel for {lacking}"
    return f"ok    {where}: {len(result.pins)} packages, all wheels"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Check that the runtime dependencies have wheels on every supported "
        "platform and Python (needs PyPI). Exit 0: all do; 1: some lack a wheel (listed); "
        "2: pip could not answer (network, bad requirement)."
    )
    root = Path(__file__).resolve().parent.parent
    parser.add_argument(
        "--pyproject", type=Path, default=root / "pyproject.toml", help="default: the checkout's"
    )
    names = [p.name for p in PLATFORMS]
    parser.add_argument(
        "--platform", action="append", choices=names, help="only these (repeatable); default: all"
    )
    parser.add_argument(
        "--python", action="append", choices=PYTHONS, help="only these (repeatable); default: all"
    )
    parser.add_argument("--index-url", default=INDEX_URL, help=f"default: {INDEX_URL}")
    parser.add_argument("--jobs", type=int, default=4, help="pip processes at once (default 4)")
    parser.add_argument("--verbose", action="store_true", help="also list each target's wheels")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")

    top = runtime_requirements(args.pyproject)
    platforms = [p for p in PLATFORMS if p.name in (args.platform or names)]
    pythons = [v for v in PYTHONS if v in (args.python or PYTHONS)]
    targets = [(p, v) for p in platforms for v in pythons]
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        pip = functools.partial(run_pip, index_url=args.index_url)
        results = list(pool.map(lambda t: check(top, t[0], t[1], pip), targets))
    for result in results:
        print(_line(result))
        if args.verbose:
            print("      " + " ".join(f"{n}=={v}" for n, v in result.pins.items()))
    failed = sum(1 for r in results if r.missing)
    errors = sum(1 for r in results if r.error)
    print(
        f"{len(results) - failed - errors} of {len(results)} targets install "
        f"{len(top)} runtime dependencies from wheels"
        + (f"; {failed} lack wheels" if failed else "")
        + (f"; {errors} could not be checked" if errors else "")
    )
    return 2 if errors else 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
