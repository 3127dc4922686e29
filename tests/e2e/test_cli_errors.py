"""Every mistake with a command, a database URL or a path ends in one line on stderr and
a documented exit code (README, "Command line"): no traceback, no hang, no key printed.

Each case runs the real `mnemo` command as a subprocess with a timeout.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mnemo.cli_support import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_UNAVAILABLE, EXIT_USAGE
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
    "users delete": ["users", "delete", "bob", "--yes"],
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
    "password with an unescaped @": (
        lambda _: "postgresql://postgres:sec@ret@127.0.0.1:5432/test",
        EXIT_USAGE,
        "postgresql://postgres:***@127.0.0.1:5432/test' has '@' in its user name or password",
    ),
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
    "sqlite database of another application": (
        lambda t: f"sqlite:///{t}/other-app.db",
        EXIT_UNAVAILABLE,
        "it holds tables that are not mnemo's (orders) and no mnemo schema",
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
    with contextlib.closing(sqlite3.connect(tmp_path / "other-app.db")) as other:
        other.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY)")
        other.commit()
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
    "password with an unescaped @",
    "sqlite database of another application",
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
    with contextlib.closing(sqlite3.connect(folder / "other-app.db")) as other:
        tables = other.execute("SELECT name FROM sqlite_master").fetchall()
    assert tables == [("orders",)]  # another application's database is left as it was


def test_a_postgresql_schema_of_another_application_is_refused() -> None:
    """A PostgreSQL schema with tables but no mnemo schema is another application's:
    refused, and nothing is created in it."""
    schema, url = pg.create_schema()
    try:
        pg.run_sql(schema, "CREATE TABLE orders (id int)")
        result = run_cli("migrate", "--database-url", url, timeout=TIMEOUT_S)
        assert_one_line_error(result, EXIT_UNAVAILABLE, "tables that are not mnemo's (orders)")
        found = pg.fetch(url, f"SELECT tablename FROM pg_tables WHERE schemaname = '{schema}'")
        assert found == [("orders",)]
    finally:
        pg.drop_schema(schema)


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
        (["search", "--user", "a", "q", "--min-score", "1.5"], "'--min-score'"),
        (["search", "--user", "a", "q", "--min-score", "nan"], "'--min-score'"),
        (["keys", "create", "--user", "no spaces"], "A user name is 1-64 characters"),
        (["keys", "create", "--user", "a", "--scopes", "memories:admin"], "Unknown scope"),
        (["users", "create", "_bad"], "A user name is 1-64 characters"),
        (["users", "create", "Jösé"], "A user name is 1-64 characters: ASCII letters"),
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


# What a command reads on stdin: name -> (arguments, bytes sent, exit code, text).
BAD_STDIN: dict[str, tuple[list[str], bytes, int, str]] = {
    "categorize of binary input": (
        ["categorize"],
        b"User likes tea\n\xff\xfe\x00\x81 binary\n",
        EXIT_USAGE,
        "stdin: line 2 is not UTF-8 text (byte 0xff at column 1)",
    ),
    "import of binary input": (
        ["import", "-"],
        b"\x89PNG\r\n",
        EXIT_USAGE,
        "stdin: line 1 is not UTF-8 text (byte 0x89",
    ),
}


@pytest.mark.parametrize("bad", list(BAD_STDIN))
def test_bad_input_on_stdin_is_one_line(bad: str, tmp_path: Path) -> None:
    """Decoded by mnemo, not by the locale's stdin: the same answer in every locale."""
    arguments, data, code, text = BAD_STDIN[bad]
    url = [] if arguments[0] == "categorize" else ["--database-url", f"sqlite:///{tmp_path}/m.db"]
    result = subprocess.run(
        [*MNEMO, *arguments, *url], input=data, capture_output=True, timeout=TIMEOUT_S,
        env={**os.environ, "LC_ALL": "C", "PYTHONIOENCODING": ""},
    )  # fmt: skip
    decoded = subprocess.CompletedProcess(
        result.args, result.returncode, result.stdout.decode(), result.stderr.decode()
    )
    assert_one_line_error(decoded, code, text)


@pytest.mark.parametrize("arguments", [["categorize"], ["import", "-"]], ids=" ".join)
def test_a_closed_stdin_is_one_line(arguments: list[str], tmp_path: Path) -> None:
    url = [] if arguments[0] == "categorize" else ["--database-url", f"sqlite:///{tmp_path}/m.db"]
    result = subprocess.run(
        ["sh", "-c", 'exec "$@" <&-', "sh", *MNEMO, *arguments, *url],
        capture_output=True, text=True, timeout=TIMEOUT_S,
    )  # fmt: skip
    assert_one_line_error(result, EXIT_UNAVAILABLE, "cannot read stdin: it is closed")


def test_a_byte_order_mark_is_not_part_of_the_first_line(tmp_path: Path) -> None:
    """Files saved by some editors (Windows Notepad) start with a UTF-8 BOM."""
    url = f"sqlite:///{tmp_path}/m.db"
    assert run_cli("users", "create", "ann", "--database-url", url).returncode == 0
    export = run_cli("export", "--database-url", url)
    with_bom = tmp_path / "bom.jsonl"
    with_bom.write_bytes(b"\xef\xbb\xbf" + export.stdout.encode())
    other = f"sqlite:///{tmp_path}/other.db"
    imported = run_cli("import", str(with_bom), "--database-url", other)
    assert imported.returncode == 0 and "users: 1 added" in imported.stdout, imported.stderr
    answer = subprocess.run(
        [*MNEMO, "categorize"], input="\ufeffUser likes tea\n".encode(), capture_output=True,
        timeout=TIMEOUT_S,
    )  # fmt: skip
    assert answer.returncode == 0
    assert json.loads(answer.stdout)["content"] == "User likes tea"


def test_usage_hints_name_the_launcher() -> None:
    """From a checkout (`./run` sets MNEMO_LAUNCHER), a hint is runnable as printed."""
    result = run_cli("kyes", "list", env={"MNEMO_LAUNCHER": "./run"})
    assert_one_line_error(result, EXIT_USAGE, "Did you mean 'keys'? (see './run --help')")
    nested = run_cli("keys", "revoke", env={"MNEMO_LAUNCHER": "./run"})
    assert_one_line_error(nested, EXIT_USAGE, "(see './run keys revoke --help')")


def test_ctrl_c_during_a_command_is_one_line_and_exit_130(tmp_path: Path) -> None:
    """`import -` waits on an open stdin with the store open: Ctrl-C there."""
    database = tmp_path / "m.db"
    process = subprocess.Popen(
        [*MNEMO, "import", "-", "--database-url", f"sqlite:///{database}"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdin is not None
        process.stdin.write(
            '{"kind": "user", "id": "01a233a5-9212-7478-8be2-90af9fa39999", '
            '"name": "ann", "created_at": "2026-12-01T22:06:58.578514Z"}\n'
        )
        process.stdin.flush()
        while not database.exists() and process.poll() is None:  # the store is open
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=TIMEOUT_S)
    finally:
        process.kill()
    result = subprocess.CompletedProcess(process.args, process.returncode, out, err)
    assert_one_line_error(result, EXIT_INTERRUPTED, "error: interrupted")


def test_ctrl_c_while_the_command_starts_is_one_line_and_exit_130() -> None:
    """A Ctrl-C while Python imports the command line (its first second) is no traceback:
    an import hook raises KeyboardInterrupt where the signal would."""
    hook = (
        "import sys\n"
        "class Interrupt:\n"
        "    def find_spec(self, name, *args):\n"
        "        if name == 'typer':\n"
        "            raise KeyboardInterrupt\n"
        "sys.meta_path.insert(0, Interrupt())\n"
        "from mnemo.__main__ import main\n"
        "sys.argv = ['mnemo', 'users', 'list']\n"
        "main()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", hook], capture_output=True, text=True, timeout=TIMEOUT_S
    )
    assert_one_line_error(result, EXIT_INTERRUPTED, "error: interrupted")
