"""`mnemo --version` and `python -m mnemo --version` print the installed version."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from mnemo import __version__

MNEMO = str(Path(sys.executable).with_name("mnemo"))


@pytest.mark.parametrize("command", [[MNEMO], [sys.executable, "-m", "mnemo"]])
def test_version_prints_the_installed_version(command: list[str]) -> None:
    done = subprocess.run(
        [*command, "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, f"{__version__}\n", "")
    assert __version__ == version("mnemo")  # the package's own version and pyproject's agree
