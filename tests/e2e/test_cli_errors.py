"""Every mistake with a command, a database URL or a path ends in one line on stderr and
a documented exit code (README, "Command line"): no traceback, no hang, no key printed.

Each case runs the real `mnemo` command as a subprocess with a timeout.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from mnemo.cli_support import EXIT_FAILED, EXIT_UNAVAILABLE, EXIT_USAGE
from tests import pg
from tests.e2e.server import MNEMO, free_port, run_cli

TIMEOUT_S = 90  # a hang fails the test instead of the suite

# Every command that opens the database, with the arguments it needs besides the URL.
# `import` reads an empty (valid) export made by the test.
COMMANDS: dict[str, list[str]] = {
    "serve": ["serve", "--port", "0"],
    "migrate": ["migrate"],
    "keys create": ["keys", "create", "--user", "alice"],
    "keys list": ["keys", "list"],
    "keys revoke": ["keys", "revoke", "0190c2a4-0000-7000-8000-000000000000"],
    "users list": ["users", "list"],
    "users create": ["users", "create", "bob"],
    "export": ["export", "-o", "{tmp}/out.jsonl"],
    "import": ["import", "{tmp}/empty.jsonl"],
    "search": ["search", "--user", "alice", "a query"],
    "reindex": ["reindex"],
}


def _closed_port() -> int:
    return free_port()  # free a moment ago: nothing listens there


# name -> (URL built from the test's folder, exit code, text the message must hold)
BAD_URLS: dict[str, tuple[Callable[[Path], str], int, str]] = {
    "sqlite without a path": (lambda _: "sqlite:///", EXIT_USAGE, "names no file"),
    "sqlite with two slashes": (lambda _: "sqlite://data.db", EXIT_USAGE, "three slashes"),
    "sqlite naming a folder": (lambda t: f"sqlite:///{t}/", EXIT_USAGE, "names a folder"),
    "in-memory sqlite": (lambda _: "sqlite:///:memory:", EXIT_USAGE, "not a file"),
    "postgresql without a database": (
        lambda _: "postgresql://postgres@127.0.0.1:5432",
        EXIT_USAGE,
        "names no database",
    ),
    "bare postgresql://": (lambda _: "postgresql://", EXIT_USAGE, "names no database"),
    "postgres:// without a database": (
        lambda _: "postgres://127.0.0.1/",
        EXIT_USAGE,
        "names no database",
    ),
    "malformed port": (
        lambda _: "postgresql://postgres:secret@127.0.0.1:54x2/test",
        EXIT_USAGE,
        "bad port '54x2'",
    ),
    "port out of range": (lambda _: "postgresql://h:70000/test", EXIT_USAGE, "bad port"),
    "unknown scheme": (lambda _: "mysql://root@localhost/db", EXIT_USAGE, "unsupported"),
    "no scheme": (lambda t: f"{t}/mnemo.db", EXIT_USAGE, "unsupported"),
    "uncreatable sqlite folder": (
        lambda _: "sqlite:////proc/mnemo-test/x/y.db",
        EXIT_UNAVAILABLE,
        "cannot create the folder",
    ),
    "sqlite under a file": (
        lambda t: f"sqlite:///{t}/a-file/y.db",
        EXIT_UNAVAILABLE,
        "a file is in the way",
    ),
    "sqlite file that is a folder": (
        lambda t: f"sqlite:///{t}/a-folder",
        EXIT_UNAVAILABLE,
        "names a folder",
    ),
    "sqlite file that is not a database": (
        lambda t: f"sqlite:///{t}/a-file",
        EXIT_UNAVAILABLE,
        "is not a SQLite database",
    ),
    "postgresql refusing connections": (
        lambda _: f"postgresql://postgres:secret@127.0.0.1:{_closed_port()}/test",
        EXIT_UNAVAILABLE,
        "cannot use the database postgresql://postgres:***@127.0.0.1:",
    ),
    "postgresql database that does not exist": (
        lambda _: pg.SERVER.rsplit("/", 1)[0] + "/mnemo_no_such_database",
        EXIT_UNAVAILABLE,
        "does not exist",
    ),
}


def _folder(tmp_path: Path) -> Path:
    (tmp_path / "a-file").write_text("not a database, and not a folder\n" * 100)
    (tmp_path / "a-folder").mkdir()
    (tmp_path / "empty.jsonl").write_text("")
    return tmp_path


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int, text: str) -> None:
    everything = result.stdout + result.stderr
    assert "Traceback" not in everything, everything
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and text in lines[0], lines[0]
    assert result.returncode == code, (result.returncode, lines[0])
    assert "secret" not in everything  # passwords are masked
    assert "Listening" not in result.stdout and "omi_dev_" not in result.stdout


# Syntax variants that take the same path through every command (the settings check):
# each runs with one command; tests/cli/test_urls.py has the rest.
SAME_PATH = {
    "sqlite with two slashes",
    "sqlite naming a folder",
    "in-memory sqlite",
    "postgresql without a database",
    "port out of range",
    "no scheme",
}
CASES = [(c, bad) for bad in BAD_URLS for c in COMMANDS if bad not in SAME_PATH or c == "migrate"]


@pytest.mark.parametrize(("command", "bad"), CASES)
def test_every_command_refuses_every_bad_database_url(
    command: str, bad: str, tmp_path: Path
) -> None:
    folder = _folder(tmp_path)
    make_url, code, text = BAD_URLS[bad]
    url = make_url(folder)
    args = [arg.format(tmp=folder) for arg in COMMANDS[command]]
    result = run_cli(*args, "--database-url", url, timeout=TIMEOUT_S)
    assert_one_line_error(result, code, text)
    assert not (folder / "out.jsonl").exists()  # an export that failed leaves no file


def test_the_url_in_the_environment_is_named_as_such(tmp_path: Path) -> None:
    result = run_cli("users", "list", env={"MNEMO_DATABASE_URL": "sqlite:///"})
    assert_one_line_error(result, EXIT_USAGE, "invalid MNEMO_DATABASE_URL: database URL")
    flag = run_cli("users", "list", "--database-url", "sqlite:///")
    assert_one_line_error(flag, EXIT_USAGE, "invalid --database-url: database URL 'sqlite:///'")


# name -> (arguments after the command, exit code, text the message must hold)
BAD_PATHS: dict[str, tuple[list[str], int, str]] = {
    "export to a missing folder": (
        ["export", "-o", "{tmp}/missing/out.jsonl"],
        EXIT_UNAVAILABLE,
        "cannot write",
    ),
    "export to a folder": (["export", "-o", "{tmp}/a-folder"], EXIT_UNAVAILABLE, "it is a folder"),
    "export under a file": (
        ["export", "-o", "{tmp}/a-file/out.jsonl"],
        EXIT_UNAVAILABLE,
        "cannot write",
    ),
    "export to an unwritable place": (
        ["export", "-o", "/proc/mnemo-export.jsonl"],
        EXIT_UNAVAILABLE,
        "cannot write /proc/mnemo-export.jsonl",
    ),
    "import of a folder": (["import", "{tmp}/a-folder"], EXIT_UNAVAILABLE, "cannot read"),
    "import of a missing file": (["import", "{tmp}/nope.jsonl"], EXIT_UNAVAILABLE, "no such file"),
    "import under a file": (["import", "{tmp}/a-file/x.jsonl"], EXIT_UNAVAILABLE, "cannot read"),
    "import of an unreadable file": (
        ["import", "/proc/self/mem"],
        EXIT_UNAVAILABLE,
        "cannot read /proc/self/mem",
    ),
    "import of a file that is not UTF-8": (
        ["import", "{tmp}/latin1.jsonl"],
        EXIT_USAGE,
        "line 1 is not UTF-8 text (byte 0xe9",
    ),
    "import of a file that is not an export": (
        ["import", "{tmp}/a-file"],
        EXIT_USAGE,
        "line 1: not a valid record",
    ),
    "categorize --eval of a folder": (
        ["categorize", "--eval", "{tmp}/a-folder"],
        EXIT_UNAVAILABLE,
        "cannot read",
    ),
    "categorize --eval of a missing file": (
        ["categorize", "--eval", "{tmp}/nope.jsonl"],
        EXIT_UNAVAILABLE,
        "cannot read",
    ),
    "categorize --eval of a file that is not UTF-8": (
        ["categorize", "--eval", "{tmp}/latin1.jsonl"],
        EXIT_USAGE,
        "not UTF-8",
    ),
}


@pytest.mark.parametrize("bad", list(BAD_PATHS))
def test_every_bad_path_is_one_line(bad: str, tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    (folder / "latin1.jsonl").write_bytes('{"content": "café"}\n'.encode("latin-1"))
    arguments, code, text = BAD_PATHS[bad]
    args = [arg.format(tmp=folder) for arg in arguments]
    url = f"sqlite:///{folder}/mnemo.db"
    with_url = [] if args[0] == "categorize" else ["--database-url", url]
    result = run_cli(*args, *with_url, timeout=TIMEOUT_S)
    assert_one_line_error(result, code, text)
    if args[0] == "import" and code == EXIT_UNAVAILABLE:
        assert not (folder / "mnemo.db").exists()  # checked before the database is touched


def test_a_failed_export_keeps_the_previous_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/mnemo.db"
    previous = tmp_path / "backup.jsonl"
    previous.write_text("the previous backup\n")
    result = run_cli("export", "--user", "ghost", "-o", str(previous), "--database-url", url)
    assert_one_line_error(result, EXIT_FAILED, f"no user named 'ghost' in {url}")
    assert previous.read_text() == "the previous backup\n"
    assert sorted(p.name for p in tmp_path.iterdir() if "backup" in p.name) == ["backup.jsonl"]
    done = run_cli("export", "-o", str(previous), "--database-url", url)
    assert done.returncode == 0, done.stderr
    assert previous.read_text() == ""  # an empty database exports nothing


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["nosuch"], "No such command 'nosuch'"),
        (["serve", "--prot", "1"], "No such option: --prot"),
        (["keys", "create"], "Missing option '--user'"),
        (["search", "--user", "a", "q", "--limit", "0"], "'--limit'"),
        (["keys", "create", "--user", "no spaces"], "A user name is 1-64 characters"),
        (["keys", "create", "--user", "a", "--scopes", "memories:admin"], "Unknown scope"),
        (["users", "create", "_bad"], "A user name is 1-64 characters"),
        (["search", "--user", "a", "   "], "1-1000 characters"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(args: list[str], text: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/mnemo.db"
    result = run_cli(*args, "--database-url", url, timeout=TIMEOUT_S)
    assert_one_line_error(result, EXIT_USAGE, text)
    assert not (tmp_path / "mnemo.db").exists()  # refused before the database is touched


def test_cli_search_lists_the_valid_categories(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/mnemo.db"
    result = run_cli("search", "--user", "a", "q", "--categories", "work,x", "--database-url", url)
    assert_one_line_error(
        result, EXIT_USAGE, "unknown category 'x' in --categories: choose from system, interesting"
    )


def test_not_found_and_conflicts_name_the_database_and_exit_1(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/mnemo.db"
    assert run_cli("users", "create", "ann", "--database-url", url).returncode == 0
    again = run_cli("users", "create", "ann", "--database-url", url)
    assert_one_line_error(again, EXIT_FAILED, f"User 'ann' already exists in {url}")
    revoke = run_cli("keys", "revoke", "nope", "--database-url", url)
    assert_one_line_error(revoke, EXIT_FAILED, f"no active key with id 'nope' in {url}")
    for args in (["keys", "list", "--user", "ghost"], ["reindex", "--user", "ghost"]):
        missing = run_cli(*args, "--database-url", url)
        assert_one_line_error(missing, EXIT_FAILED, f"no user named 'ghost' in {url}")


def test_version_and_help() -> None:
    from mnemo import __version__

    version = run_cli("--version")
    assert version.returncode == 0 and version.stdout.strip() == __version__
    bare = subprocess.run(MNEMO, capture_output=True, text=True, timeout=TIMEOUT_S)
    assert bare.returncode == EXIT_USAGE and "Usage" in bare.stdout
    assert "Traceback" not in bare.stdout + bare.stderr


def test_a_busy_port_is_not_a_database_problem(tmp_path: Path) -> None:
    """The port is bound before the database is opened or a key is made."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        url = f"sqlite:///{tmp_path}/mnemo.db"
        result = run_cli("serve", "--port", str(port), "--database-url", url, timeout=TIMEOUT_S)
    assert_one_line_error(
        result, EXIT_UNAVAILABLE, f"port {port} is in use: choose another with --port or MNEMO_PORT"
    )
    assert not (tmp_path / "mnemo.db").exists()
