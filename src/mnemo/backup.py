"""`mnemo backup` and `mnemo restore` for SQLite, with SQLite's online backup API
(through `sqlean`, the driver mnemo uses): a consistent copy while the service runs,
and a restore that writes through SQLite so its WAL and shared-memory files stay true."""

from __future__ import annotations

import os
from pathlib import Path

from sqlean import dbapi2 as sqlite3

from mnemo.cli_support import EXIT_FAILED, EXIT_USAGE, CliError, os_reason
from mnemo.store import migrations

BUSY_TIMEOUT_MS = 30_000  # how long a backup or restore waits for a writer's lock
PG_DUMP_HINT = (
    "mnemo backup copies SQLite databases; for PostgreSQL use pg_dump -Fc "
    "(and pg_restore to restore): see docs/postgres.md"
)


def _connect(path: Path | str) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn


def _copy(source: sqlite3.Connection, target: sqlite3.Connection) -> None:
    """Every page of `source` into `target`, as one consistent snapshot."""
    source.backup(target)


def backup(database: Path, file: Path, force: bool) -> int:
    """Copy the database at `database` to `file`; the schema version copied."""
    if not database.is_file():
        raise CliError(f"no database at {database}", EXIT_USAGE)
    if file.exists() and not force:
        raise CliError(f"{file} exists: pass --force to overwrite it", EXIT_USAGE)
    if not file.parent.is_dir():
        raise CliError(f"cannot write {file}: no folder {file.parent}", EXIT_USAGE)
    partial = file.with_name(f".{file.name}.partial")
    try:
        partial.unlink(missing_ok=True)
        source, target = _connect(database), _connect(partial)
        try:
            _copy(source, target)
            # One self-contained file: no -wal or -shm beside it to lose.
            target.execute("PRAGMA journal_mode = DELETE")
            version = schema_version(target, partial)
        finally:
            source.close()
            target.close()
        os.replace(partial, file)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise CliError(f"cannot write {file}: {os_reason(error)}", EXIT_FAILED) from None
    except sqlite3.Error as error:
        partial.unlink(missing_ok=True)
        raise CliError(f"cannot back up {database}: {error}", EXIT_FAILED) from None
    return version


def schema_version(conn: sqlite3.Connection, shown: Path) -> int:
    """The mnemo schema version of an open database; a CliError if it is not a mnemo
    database, or one newer than this mnemo can open."""
    known = len(migrations.load("sqlite"))
    try:
        found = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
        ).fetchone()
        row = (
            conn.execute("SELECT max(version) FROM schema_migrations").fetchone() if found else None
        )
    except sqlite3.DatabaseError:
        raise CliError(f"{shown} is not a SQLite database", EXIT_USAGE) from None
    if row is None or row[0] is None:
        raise CliError(f"{shown} is not a mnemo database", EXIT_USAGE)
    version = int(row[0])
    if version > known:
        raise CliError(
            f"{shown} has schema version {version}; this mnemo opens up to {known}: "
            "upgrade mnemo first",
            EXIT_USAGE,
        )
    return version


def restore(file: Path, database: Path, force: bool) -> int:
    """Replace the database at `database` with the backup `file`; its schema version."""
    if not file.is_file():
        raise CliError(f"no backup at {file}", EXIT_USAGE)
    if database.exists() and not force:
        raise CliError(
            f"database {database} exists: pass --force to replace it "
            "(stop the server first: a running one keeps serving the old data it holds)",
            EXIT_USAGE,
        )
    try:
        source = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise CliError(f"cannot open {file}: {error}", EXIT_USAGE) from None
    try:
        version = schema_version(source, file)
        database.parent.mkdir(parents=True, exist_ok=True)
        target = _connect(database)
        try:
            _copy(source, target)
            target.execute("PRAGMA journal_mode = WAL")  # as mnemo opens it
        finally:
            target.close()
    except OSError as error:
        raise CliError(f"cannot write {database}: {os_reason(error)}", EXIT_FAILED) from None
    except sqlite3.Error as error:
        raise CliError(f"cannot restore into {database}: {error}", EXIT_FAILED) from None
    finally:
        source.close()
    return version
