"""A wheel built from the checkout works when installed outside it: the command, the
migrations, both models and the licence are in the package.

The wheels of mnemo and mnemo-client go into a new virtualenv with `--no-deps`, which
borrows this one's other dependencies (tests/install/wheels.py says how, and why).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from mnemo import __version__
from tests.install.wheels import ROOT, build_wheel, install, new_venv, run, this_environment


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The bin folder of a new virtualenv with the wheels built from the checkout: mnemo
    and mnemo-client, the distribution it depends on for the API's schemas (this
    virtualenv's editable mnemo-client is not borrowed)."""
    work = tmp_path_factory.mktemp("wheel")
    server = build_wheel(ROOT, ("src", "pyproject.toml", "README.md", "LICENSE"), work)
    client = build_wheel(ROOT / "client", ("src", "pyproject.toml", "README.md", "LICENSE"), work)
    python = new_venv(work, this_environment())
    install(python, server, client)
    yield python.parent


def test_the_installed_package_is_the_wheel_not_the_checkout(installed: Path) -> None:
    done = run(installed / "python", "-c", "import mnemo; print(mnemo.__file__)", cwd=installed)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).is_relative_to(installed.parent), done.stdout


def test_the_command_runs_and_migrates(installed: Path, tmp_path: Path) -> None:
    version = run(installed / "mnemo", "--version", cwd=tmp_path)
    assert (version.returncode, version.stdout) == (0, f"{__version__}\n"), version.stderr
    url = f"sqlite:///{tmp_path}/data/m.db"
    migrated = run(installed / "mnemo", "migrate", "--database-url", url, cwd=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout.startswith("schema version "), migrated.stdout
    assert (tmp_path / "data" / "m.db").is_file()


def test_both_models_are_packaged(installed: Path, tmp_path: Path) -> None:
    # the categoriser's model.json
    categorised = run(installed / "mnemo", "categorize", cwd=tmp_path, stdin="User is vegan\n")
    assert categorised.returncode == 0, categorised.stderr
    assert json.loads(categorised.stdout)["category"] in {"system", "interesting"}
    # the embedding model: a search embeds its query even when the user has no memories
    database = ("--database-url", f"sqlite:///{tmp_path}/m.db")
    made = run(installed / "mnemo", "users", "create", "alice", *database, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    found = run(installed / "mnemo", "search", "--user", "alice", "food", *database, cwd=tmp_path)
    assert (found.returncode, found.stdout, found.stderr) == (0, "", "")


def test_the_licence_is_in_the_wheel(installed: Path) -> None:
    code = "from importlib.metadata import files; print([str(f) for f in files('mnemo')])"
    done = run(installed / "python", "-c", code, cwd=installed)
    licence = f"mnemo-{__version__}.dist-info/licenses/LICENSE"
    assert licence in done.stdout, done.stdout + done.stderr


def test_the_web_pages_templates_and_static_files_are_packaged(installed: Path) -> None:
    """Every template and static file of mnemo.ui is in the wheel, and loads from it."""
    source = ROOT / "src" / "mnemo" / "ui"
    templates = sorted(p.name for p in (source / "templates").iterdir())
    static = sorted(p.name for p in (source / "static").iterdir())
    script = (
        "import json; from importlib.resources import files; "
        "from mnemo.ui.templating import _ENV; "
        "ui = files('mnemo.ui'); "
        "print(json.dumps([sorted(_ENV.list_templates()),"
        " sorted(p.name for p in (ui / 'static').iterdir()),"
        " (ui / 'static' / 'htmx.min.js').read_text()[:9]]))"
    )
    done = run(installed / "python", "-c", script, cwd=installed)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [templates, static, "var htmx="]
