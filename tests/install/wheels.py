"""Building this checkout's wheels and installing them into new virtualenvs, fast.

A new virtualenv gets its dependencies by borrowing folders of this one's through a .pth
file rather than from the index (which would cost half a minute and test pip, not the
package; scripts/check_platforms.py checks that the dependencies resolve). A .pth line
adds a folder, whose own .pth files are not read: this virtualenv's editable installs
do not leak in.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterable
from importlib.metadata import distribution
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
_LEFTOVERS = ("*.egg-info", "__pycache__", "build")


def run(*command: str | Path, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run a command without this process's MNEMO_* variables or PYTHONPATH."""
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


def build_wheel(project: Path, names: Iterable[str], work: Path) -> Path:
    """The wheel of the project in folder `project` of the checkout, built from a copy of
    the files and folders `names` (a checkout's build/ and *.egg-info folders would hand
    an earlier build's files to this one, hiding a missing package-data entry)."""
    source = work / f"source-{project.name}"
    for name in names:
        if (project / name).is_dir():
            ignore = shutil.ignore_patterns(*_LEFTOVERS)
            shutil.copytree(project / name, source / name, ignore=ignore)
        else:
            source.mkdir(parents=True, exist_ok=True)
            shutil.copy(project / name, source / name)
    out = work / f"wheel-{project.name}"
    built = run(sys.executable, "-m", "pip", "wheel", source, "--no-deps", "-w", out, cwd=work)
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = out.glob("*.whl")
    return wheel


def new_venv(work: Path, borrowed: Iterable[str]) -> Path:
    """A new virtualenv without pip in `work`/venv that sees the folders `borrowed`;
    its python."""
    venv = work / "venv"
    made = run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=work)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    purelib = run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=work)
    Path(purelib.stdout.strip(), "borrowed.pth").write_text("\n".join(sorted(borrowed)) + "\n")
    return python


def install(python: Path, *wheels: Path) -> None:
    """Install `wheels` (without their dependencies) into `python`'s virtualenv."""
    pip = (sys.executable, "-m", "pip", "--python", python)
    done = run(*pip, "install", "--no-deps", *wheels, cwd=python.parent)
    assert done.returncode == 0, done.stdout + done.stderr


def this_environment() -> set[str]:
    """This virtualenv's package folders (to borrow all of them)."""
    return {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}


def only_dependencies_of(project: str, work: Path) -> set[str]:
    """One folder holding links to exactly what `project`'s runtime dependencies (and
    theirs, markers judged here) install in this virtualenv, and nothing else."""
    folder = work / "dependencies"
    folder.mkdir()
    todo = [Requirement(line) for line in distribution(project).requires or []]
    done: set[str] = set()
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in done or (requirement.marker and not requirement.marker.evaluate()):
            continue
        done.add(name)
        found = distribution(name)
        for top in {Path(str(file)).parts[0] for file in found.files or []}:
            target = Path(str(found.locate_file(top)))
            if top in ("..", "__pycache__") or top.endswith(".pth") or (folder / top).exists():
                continue  # a script in bin/, or what a .pth line would add
            if target.exists():
                (folder / top).symlink_to(target)
        todo += [Requirement(line) for line in found.requires or []]
    return {str(folder)}
