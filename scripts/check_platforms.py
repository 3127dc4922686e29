#!/usr/bin/env python3
"""Check that mnemo's runtime dependencies install from wheels on every supported platform.

For each platform below and each CPython 3.11, 3.12 and 3.13, this asks pip which
wheels on PyPI an install of `pyproject.toml`'s `[project] dependencies` would use (and
those of client/pyproject.toml, the mnemo-client distribution mnemo depends on)
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

What a pip call costs is its start-up (about 0.5 s of CPU), reading every file each
project's listing names (15,000 for pydantic-core; pip parses each, whatever it is asked
for), and, without PEP 658 metadata, downloading each wheel it picks. So, all without
changing what pip picks:
- pip asks a local index (127.0.0.1, this process) that serves the real index's PEP 691
  listings, each read once for the whole run, less the files pip cannot pick in that
  call: sdists (only wheels are taken), wheels of versions the call's specifiers
  exclude, and wheels of no platform tag of the target's families (pip accepts
  manylinux, macosx or win tags of the family of its `--platform` values, and `any`).
- A project whose wheels of the versions asked are all pure (`py3-none-any`, and tags
  no CPython 3 target accepts) offers every target the same files, less those whose
  Requires-Python excludes its Python; pip then picks the same one for the same
  specifiers (or for more specifiers that still allow it), so one target's pick is
  every target's that is offered the same files.
- One call asks for more than one level: what the target will need next is guessed
  from the wheels other targets got (of the same platform, else OS, first) and asked
  in the same call. A guess only saves calls: a pick is kept only while the target's
  own walk asks for it with the specifiers it was picked for or more, and a guessed
  package without a wheel is asked again, and reported, only if the target needs it.
- The first target is walked alone, then one Python of each other platform first.
If the listings of the runtime dependencies cannot be read here, pip is pointed at the
index itself (and says what is wrong with it); a listing that cannot be read later
makes the targets asking for it errors (exit 2), not missing wheels.

Needs PyPI (or `--index-url` of a mirror). Machine-local pip configuration (indexes,
find-links, constraints) is ignored: only what the index serves counts. Exit 0: every
target installs; 1: some lack a wheel (listed); 2: the index could not be asked.
"""

from __future__ import annotations

import argparse
import functools
import http.client
import http.server
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import Version

PYTHONS = ("3.11", "3.12", "3.13")
MACOS = 13  # the oldest macOS checked (Ventura); anything newer accepts the same wheels
GLIBC = 28  # the oldest glibc checked, 2.28 (Debian 10, Ubuntu 20.04, RHEL 8 and later)
INDEX_URL = "https://pypi.org/simple"
MAX_ROUNDS = 40  # steps of one target's walk (pip calls, shared answers); then an error
PIP_TIMEOUT_S = 600  # one pip call (it retries a slow index itself)
LISTING_TIMEOUT_S = 60  # one read of a project's index listing (for sharing answers only)
LOCAL_PROJECTS = ("client",)  # folders of the checkout with distributions mnemo depends on


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
    platform: Platform,
    python: str,
    requirements: list[str],
    index_url: str = INDEX_URL,
    local: LocalIndex | None = None,
) -> dict[str, dict[str, Any]]:
    """The metadata of the wheels pip picks for `requirements` (no dependencies) on the
    target, by canonical name; raises LookupError(requirement) if one has no wheel.
    pip asks `local` if given (which serves `index_url`'s listings), else `index_url`."""
    with tempfile.TemporaryDirectory(prefix="check-platforms-") as target:
        command = [sys.executable, "-m", "pip", "--isolated", "--disable-pip-version-check"]
        command += ["install", "--dry-run", "--quiet"]
        command += ["--ignore-installed", "--no-deps", "--only-binary=:all:", "--target", target]
        command += ["--implementation", "cp", "--python-version", python]
        for tag in platform.tags:
            command += ["--platform", tag]
        asked = local.url(requirements, platform) if local else index_url
        command += ["--index-url", asked, "--report", "-", *requirements]
        # --isolated ignores PIP_* variables and the user's configuration; this ignores
        # the machine's too (global and site files: indexes, find-links, constraints).
        env = {**os.environ, "PIP_CONFIG_FILE": os.devnull}
        if local:  # never through a proxy
            env["no_proxy"] = env["NO_PROXY"] = ",".join(
                filter(None, ["127.0.0.1", env.get("NO_PROXY") or env.get("no_proxy")])
            )
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, env=env, timeout=PIP_TIMEOUT_S
            )
        except subprocess.TimeoutExpired:
            raise PipError(f"pip did not answer in {PIP_TIMEOUT_S} s") from None
    if done.returncode != 0:
        if local and (failure := local.failure(asked)):
            raise PipError(failure)
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


@dataclass(frozen=True)
class _Pin:
    """The wheel pip picked for a package, and the specifiers it was asked with."""

    metadata: dict[str, Any]
    asked: SpecifierSet


def _narrows(asked: SpecifierSet, now: SpecifierSet) -> bool:
    """Whether `now` is `asked` and more specifiers, allowing prereleases alike: then it
    allows fewer versions, and pip's pick for `asked` (the best), if `now` allows it,
    is pip's pick for `now` too."""
    return set(asked) <= set(now) and bool(asked.prereleases) == bool(now.prereleases)


def _fits(wanted: _Wanted, pin: _Pin | None) -> bool:
    """Whether pip, asked for `wanted` now, would pick `pin` again."""
    return (
        pin is not None
        and wanted.specifier.contains(pin.metadata["version"], prereleases=True)
        and _narrows(pin.asked, wanted.specifier)
    )


@functools.cache
def _wheel(filename: str) -> tuple[Version | None, frozenset[tuple[str, str, str]]]:
    """A wheel's version (None if its name cannot be read) and its tags (interpreter,
    ABI, platform)."""
    try:
        _, version, _, tags = parse_wheel_filename(filename)
        return version, frozenset((t.interpreter, t.abi, t.platform) for t in tags)
    except InvalidWheelFilename:  # pip skips it, or reads it as it may: assume any version
        parts = filename.removesuffix(".whl").split("-")
        if len(parts) < 5:  # not even name-version-python-abi-platform: pip skips it
            return None, frozenset()
        interpreters, abis, platforms = (part.split(".") for part in parts[-3:])
        return None, frozenset(itertools.product(interpreters, abis, platforms))


def _is_pure(tags: frozenset[tuple[str, str, str]]) -> bool:
    """Whether every CPython 3 target on every platform accepts a wheel, or none does.
    A CPython 3.x target accepts interpreter tags cp3x and py3x..py30 for x >= 0 and py3,
    so py3 and tags not of that form (py2, py36+) are accepted by all targets or none."""
    return all(
        abi == "none"
        and platform == "any"
        and (interpreter == "py3" or not re.fullmatch(r"(cp|py)3\d*", interpreter))
        for interpreter, abi, platform in tags
    )


def _admitted(
    files: list[dict[str, Any]], python: str, specifier: SpecifierSet
) -> frozenset[str] | None:
    """The wheels of versions `specifier` allows that a project offers CPython `python`,
    on any platform alike: None unless all of them are pure (the targets may differ)."""
    python_version = Version(f"{python}.0")  # as pip checks Requires-Python
    admitted = set()
    for file in files:
        name = str(file.get("filename", ""))
        if not name.endswith(".whl"):
            continue
        version, tags = _wheel(name)
        if version is not None and not specifier.contains(version, prereleases=True):
            continue
        if not _is_pure(tags):
            return None
        try:
            if python_version not in SpecifierSet(file.get("requires-python") or ""):
                continue
        except InvalidSpecifier:
            return None
        admitted.add(name)
    return frozenset(admitted)


ABSENT: dict[str, Any] = {"files": []}  # the listing of a project the index does not have


class Listings:
    """The index's PEP 691 listings of projects, each read once for the whole run."""

    def __init__(self, index_url: str) -> None:
        self.index_url = index_url
        self._lock = threading.Lock()
        self._read: dict[str, Future[dict[str, Any] | None]] = {}

    def get(self, name: str) -> dict[str, Any] | None:
        """The listing of project `name` (ABSENT if the index has no such project);
        None if it cannot be read."""
        with self._lock:
            future = self._read.get(name)
            owner = future is None
            if future is None:
                future = self._read[name] = Future()
        if owner:
            try:
                future.set_result(self._fetch(name))
            except BaseException as error:  # never leave the others waiting
                future.set_exception(error)
        return future.result()

    def _fetch(self, name: str) -> dict[str, Any] | None:
        url = f"{self.index_url.rstrip('/')}/{name}/"
        request = urllib.request.Request(
            url, headers={"Accept": "application/vnd.pypi.simple.v1+json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=LISTING_TIMEOUT_S) as response:
                if "json" not in response.headers.get("Content-Type", ""):
                    return None
                listing = json.load(response)
        except urllib.error.HTTPError as error:
            return ABSENT if error.code == 404 else None
        except (OSError, ValueError, http.client.HTTPException):
            return None
        files = listing.get("files") if isinstance(listing, dict) else None
        if not isinstance(files, list) or not all(isinstance(f, dict) for f in files):
            return None
        for file in files:  # served from elsewhere, a relative URL would not lead there
            file["url"] = urllib.parse.urljoin(url, str(file.get("url", "")))
        return {**listing, "files": files}


def _family(platform_tag: str) -> str:
    """manylinux, musllinux, macosx, win, any, ...: pip, given --platform tags, accepts
    those tags and older ones of the same family (manylinux2014 -> manylinux1, macOS 13
    -> 10.x, universal2), and any."""
    return re.sub(r"[^a-z].*", "", platform_tag, flags=re.DOTALL)


def _may_be_picked(file: dict[str, Any], specifier: SpecifierSet, families: set[str]) -> bool:
    """False for a file pip cannot pick for `specifier` on a target of platform tags of
    `families`: not a wheel (only wheels are taken), or a wheel of a version the
    specifiers exclude or of no platform tag of those families (nor any)."""
    name = str(file.get("filename", ""))
    if not name.endswith(".whl"):
        return False
    version, tags = _wheel(name)
    if not any(_family(platform) in families for _, _, platform in tags):
        return False
    return version is None or specifier.contains(version, prereleases=True)


class LocalIndex:
    """An index on 127.0.0.1 that pip is pointed at: the real index's listings, read
    once for all targets, less the files pip cannot pick in that call (`_may_be_picked`).
    pip reads every file a listing names, in every call (15,000 for pydantic-core): this
    was most of what a call cost. Files are downloaded from where the real index says;
    a project it does not have is a 404, and so is a listing that cannot be read, but
    the call's failure is then that (`failure`), not a missing wheel."""

    def __init__(self, listings: Listings) -> None:
        self._listings = listings
        self._lock = threading.Lock()
        # the specifiers asked by name, and the families of platform tags of each call
        self._calls: dict[str, tuple[dict[str, SpecifierSet], set[str]]] = {}
        self._bodies: dict[tuple[str, str, bool, frozenset[str]], bytes] = {}  # answers given
        self._failed: dict[str, str] = {}  # call -> what could not be read for it
        index = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
                index._answer(self)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._root = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def url(self, requirements: list[str], platform: Platform) -> str:
        """The index URL for one pip call asking for `requirements` on `platform`."""
        wanted = {
            str(canonicalize_name(r.name)): r.specifier for r in map(Requirement, requirements)
        }
        with self._lock:
            call = str(len(self._calls))
            self._calls[call] = (wanted, {"any", *map(_family, platform.tags)})
        return f"{self._root}/{call}/simple"

    def failure(self, url: str) -> str | None:
        """What of the real index could not be read for the call given `url`, if any."""
        with self._lock:
            return self._failed.get(url.removeprefix(f"{self._root}/").split("/")[0])

    def _answer(self, request: http.server.BaseHTTPRequestHandler) -> None:
        parts = request.path.strip("/").split("/")
        with self._lock:
            call = self._calls.get(parts[0]) if len(parts) == 3 else None
        if call is None or parts[1] != "simple":
            request.send_error(404)
            return
        name = canonicalize_name(parts[2])
        listing = self._listings.get(name)
        if listing is None or listing is ABSENT:
            if listing is None:  # pip would say "no matching distribution" (exit 1)
                with self._lock:
                    self._failed[parts[0]] = f"could not read {self._listings.index_url}/{name}/"
            request.send_error(404)
            return
        wanted, families = call
        specifier = wanted.get(name, SpecifierSet())
        key = (name, str(specifier), bool(specifier.prereleases), frozenset(families))
        with self._lock:
            body = self._bodies.get(key)
        if body is None:
            files = [f for f in listing["files"] if _may_be_picked(f, specifier, families)]
            body = json.dumps({**listing, "files": files}).encode()
            with self._lock:
                self._bodies[key] = body
        request.send_response(200)
        request.send_header("Content-Type", "application/vnd.pypi.simple.v1+json")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)


class Shared:
    """What one target's pip calls tell the others: picks of pure projects (pip picks the
    same file for the same specifiers when it is offered the same files), and every
    wheel's metadata as a guess of what another target will need."""

    def __init__(self, listings: Listings | None) -> None:
        self._listings = listings  # None: no pick is shared
        self._lock = threading.Lock()
        # name -> (specifiers asked, the pure wheels offered, pip's pick)
        self._picks: dict[str, list[tuple[SpecifierSet, frozenset[str], dict[str, Any]]]] = {}
        self._offered: dict[tuple[str, str, str, bool], frozenset[str] | None] = {}
        # name -> (platform, Python, metadata) of every wheel pip picked
        self._seen: dict[str, list[tuple[Platform, str, dict[str, Any]]]] = {}

    def guesses(self, platform: Platform, python: str) -> dict[str, dict[str, Any]]:
        """For each package seen, the metadata of the wheel a target picked that is most
        like this one: the same platform, else the same OS; the same Python."""

        def likeness(seen: tuple[Platform, str, dict[str, Any]]) -> tuple[bool, bool, bool]:
            other, version, _ = seen
            same_os = other.markers["sys_platform"] == platform.markers["sys_platform"]
            return other == platform, same_os, version == python

        with self._lock:
            return {name: max(seen, key=likeness)[2] for name, seen in self._seen.items()}

    def known(self, wanted: _Wanted, python: str) -> dict[str, Any] | None:
        """pip's pick for `wanted` on this Python, if another target's is provably it:
        asked with specifiers `wanted`'s narrow, which allow it, and the project offered
        both targets the same files of those versions, all pure."""
        with self._lock:
            picks = list(self._picks.get(wanted.name, ()))
        for asked, admitted, metadata in picks:
            if (
                _narrows(asked, wanted.specifier)
                and wanted.specifier.contains(metadata["version"], prereleases=True)
                and self._admitted(wanted.name, python, asked) == admitted
            ):
                return metadata
        return None

    def learn(
        self, wanted: _Wanted, platform: Platform, python: str, metadata: dict[str, Any]
    ) -> None:
        admitted = self._admitted(wanted.name, python, wanted.specifier)
        with self._lock:
            self._seen.setdefault(wanted.name, []).append((platform, python, metadata))
            if admitted is not None:
                pick = (wanted.specifier, admitted, metadata)
                self._picks.setdefault(wanted.name, []).append(pick)

    def _admitted(self, name: str, python: str, specifier: SpecifierSet) -> frozenset[str] | None:
        key = (name, python, str(specifier), bool(specifier.prereleases))
        with self._lock:
            if key in self._offered:
                return self._offered[key]
        listing = None if self._listings is None else self._listings.get(name)
        admitted = None if listing is None else _admitted(listing["files"], python, specifier)
        with self._lock:
            self._offered[key] = admitted
        return admitted


def check(
    top: list[Requirement],
    platform: Platform,
    python: str,
    pip: Pip = run_pip,
    shared: Shared | None = None,
) -> Result:
    """Walk `top`'s dependency tree for one target; `pip` picks the wheels."""
    shared = shared or Shared(None)
    result = Result(platform.name, python)
    env = platform.environment(python)
    pins: dict[str, _Pin] = {}  # kept when no longer wanted: they may be again
    skip: set[str] = set()  # packages without a wheel: out of the walk, with what only they need
    unguessable: set[str] = set()  # guessed, and pip found no wheel: asked only when needed
    for _ in range(MAX_ROUNDS):
        picked = {name: pin.metadata for name, pin in pins.items()}
        wanted = _wanted(top, picked, env, skip)
        # ask only for what has no wheel yet, or one its merged specifiers now exclude
        ask = {n: w for n, w in wanted.items() if not _fits(w, pins.get(n))}
        if not ask:
            result.pins = {name: picked[name]["version"] for name in sorted(wanted)}
            return result
        known = {n: m for n, w in ask.items() if (m := shared.known(w, python)) is not None}
        if known:
            pins |= {n: _Pin(m, ask[n].specifier) for n, m in known.items()}
            continue
        # and in the same call, what the wheels other targets got say comes next
        guessed = _wanted(top, shared.guesses(platform, python) | picked, env, skip | unguessable)
        asked = ask | {
            n: w
            for n, w in guessed.items()
            if n not in wanted and not _fits(w, pins.get(n)) and not shared.known(w, python)
        }
        try:
            answers = pip(platform, python, [w.requirement() for w in asked.values()])
        except LookupError as missing:
            name = canonicalize_name(Requirement(str(missing)).name)
            if name in ask:
                result.missing[ask[name].requirement()] = ask[name].needed_by
                skip.add(name)  # and go on, to find every missing wheel, not only the first
            elif name in asked:
                unguessable.add(name)
            else:
                result.error = f"pip found no wheel for {missing}, which was not asked for"
                return result
            continue
        except PipError as error:
            result.error = str(error)
            return result
        for got, metadata in answers.items():
            if got in asked:
                pins[got] = _Pin(metadata, asked[got].specifier)
                shared.learn(asked[got], platform, python, metadata)
    result.error = f"the dependencies did not settle in {MAX_ROUNDS} steps"
    return result


def _project(pyproject: Path) -> dict[str, Any]:
    with pyproject.open("rb") as file:
        project: dict[str, Any] = tomllib.load(file)["project"]
    return project


def runtime_requirements(pyproject: Path) -> list[Requirement]:
    """The project's dependencies; one on a distribution of the same checkout (a folder
    of LOCAL_PROJECTS beside pyproject.toml: it is installed from there, not from the
    index) is replaced by that distribution's own dependencies."""
    local = {
        canonicalize_name(_project(path)["name"]): path
        for folder in LOCAL_PROJECTS
        if (path := pyproject.parent / folder / "pyproject.toml").is_file()
    }
    found: list[Requirement] = []
    for line in _project(pyproject).get("dependencies", []):
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        found += runtime_requirements(local[name]) if name in local else [requirement]
    return found


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
    listings = Listings(args.index_url)
    # pip asks the index itself if it cannot be read here, and says what is wrong
    readable = all(listings.get(canonicalize_name(r.name)) for r in top)
    local = LocalIndex(listings) if readable else None
    shared = Shared(listings if readable else None)

    def pip(platform: Platform, python: str, requirements: list[str]) -> dict[str, Any]:
        return run_pip(platform, python, requirements, args.index_url, local)

    try:
        # The first target alone, so that the others start from what it learnt; then
        # one Python of each other platform, before the rest can guess from them.
        order = sorted(range(1, len(targets)), key=lambda n: targets[n][1] != targets[0][1])
        done = {0: check(top, *targets[0], pip, shared)}
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            walks = pool.map(lambda n: check(top, *targets[n], pip, shared), order)
            done |= zip(order, walks, strict=True)
        results = [done[n] for n in range(len(targets))]
    finally:
        if local:
            local.close()
    for result in results:
        print(_line(result))
        if args.verbose:
            print("      " + " ".join(f"{n}=={v}" for n, v in result.pins.items()))
    failed = sum(1 for r in results if r.missing)
    errors = sum(1 for r in results if r.error)
    print(
        f"{len(results) - failed - errors} of {len(results)} targets install "
        f"{len({canonicalize_name(r.name) for r in top})} runtime dependencies from wheels"
        + (f"; {failed} lack wheels" if failed else "")
        + (f"; {errors} could not be checked" if errors else "")
    )
    return 2 if errors else 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
