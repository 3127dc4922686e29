"""A wheel built from the checkout works when installed outside it: the command, the
migrations, both models and the licence are in the package.

The wheel goes into a new virtualenv with `--no-deps`, which borrows this one's
dependencies through a .pth file (not its editable mnemo: a .pth line adds a folder,
whose own .pth files are not read). Installing every dependency afresh would cost half
a minute and 270 MB and would test pip, not the package; scripts/check_platforms.py
checks that the dependencies resolve.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import pytest

from mnemo import __version__

ROOT = Path(__file__).resolve().parents[2]
_LEFTOVERS = ("*.egg-info", "__pycache__")


def _run(*command: str | Path, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MNEMO_")}
    env.pop("PYTHONPATH", None)
    return subprocess.run(
        [str(part) for part in command],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The bin folder of a new virtualenv with the wheel built from the checkout."""
    work = tmp_path_factory.mktemp("wheel")
    # from a copy of what the build reads: a checkout's build/ and *.egg-info folders
    # would hand an earlier build's files to this one, hiding a missing package-data entry
    source = work / "source"
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns(*_LEFTOVERS))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    built = _run(sys.executable, "-m", "pip", "wheel", source, "--no-deps", "-w", work, cwd=work)
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = work.glob("mnemo-*.whl")
    venv = work / "venv"
    made = _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=work)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    purelib = _run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=work)
    ours = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    Path(purelib.stdout.strip(), "borrowed.pth").write_text("\n".join(sorted(ours)) + "\n")
    done = _run(
        sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", wheel, cwd=work
    )
    assert done.returncode == 0, done.stdout + done.stderr
    yield venv / "bin"


def test_the_installed_package_is_the_wheel_not_the_checkout(installed: Path) -> None:
    done = _run(installed / "python", "-c", "import mnemo; print(mnemo.__file__)", cwd=installed)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).is_relative_to(installed.parent), done.stdout


def test_the_command_runs_and_migrates(installed: Path, tmp_path: Path) -> None:
    version = _run(installed / "mnemo", "--version", cwd=tmp_path)
    assert (version.returncode, version.stdout) == (0, f"{__version__}\n"), version.stderr
    url = f"sqlite:///{tmp_path}/data/m.db"
    migrated = _run(installed / "mnemo", "migrate", "--database-url", url, cwd=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout.startswith("schema version "), migrated.stdout
    assert (tmp_path / "data" / "m.db").is_file()


def test_both_models_are_packaged(installed: Path, tmp_path: Path) -> None:
    # the categoriser's model.json
    categorised = _run(installed / "mnemo", "categorize", cwd=tmp_path, stdin="User is vegan\n")
    assert categorised.returncode == 0, categorised.stderr
    assert json.loads(categorised.stdout)["category"] in {"system", "interesting"}
    # the embedding model: a search embeds its query even when the user has no memories
    database = ("--database-url", f"sqlite:///{tmp_path}/m.db")
    made = _run(installed / "mnemo", "users", "create", "alice", *database, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    found = _run(installed / "mnemo", "search", "--user", "alice", "food", *database, cwd=tmp_path)
    assert (found.returncode, found.stdout, found.stderr) == (0, "", "")


def test_the_licence_is_in_the_wheel(installed: Path) -> None:
    code = "from importlib.metadata import files; print([str(f) for f in files('mnemo')])"
    done = _run(installed / "python", "-c", code, cwd=installed)
    licence = f"mnemo-{__version__}.dist-info/licenses/LICENSE"
    assert licence in done.stdout, done.stdout + done.stderr
