"""What every `mnemo` command shares: running it (`run_command`), its exit codes, its
one-line errors, opening the store (`with_store`), and the checks of files and folders
made before anything is touched.

Exit codes (the README's command-line section lists them too):

    0  done
    1  FAILED       what was asked names nothing, or conflicts: no such user or key,
                    a user that already exists
    2  USAGE        the command line, a setting, a URL or the input given is wrong
                    (nothing was changed)
    3  UNAVAILABLE  a file, folder, database, Redis server or port could not be opened,
                    created, reached or bound
  130  INTERRUPTED  Ctrl-C (SIGINT) before the command finished

Every error is one line on stderr, `error: ...`; one that concerns the database names
its URL, password masked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, NoReturn, TextIO, TypeVar

import typer

from mnemo.config import Settings
from mnemo.errors import (
    BadRequest,
    Conflict,
    MnemoError,
    NotFound,
    StoreError,
    Unprocessable,
)
from mnemo.store import Store, store_for
from mnemo.urls import DatabaseUrl, mask_urls_in, parse_database_url

T = TypeVar("T")

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3
EXIT_INTERRUPTED = 130
_BOM = "\ufeff"  # a UTF-8 byte order mark, which some editors write at the start of a file
_SQLITE_HEADER = b"SQLite format 3\x00"  # the first bytes of every SQLite database file


class CliError(Exception):
    """Ends a command with `error: <message>` on stderr and `code`."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.message = " ".join(message.split())  # one line, whatever the cause said
        self.code = code


def os_reason(error: OSError) -> str:
    """An `OSError` in a few words: 'permission denied', 'no such file or directory'."""
    text = error.strerror or str(error) or type(error).__name__
    return text[:1].lower() + text[1:]


def _cause(error: BaseException) -> str:
    cause = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
    if cause is None:
        return ""
    if isinstance(cause, TimeoutError):
        return "timed out"
    if isinstance(cause, OSError) and cause.strerror:
        return os_reason(cause)
    return str(cause) or type(cause).__name__


def store_failure(error: MnemoError, database: DatabaseUrl) -> CliError:
    """The CLI's words for an error raised by the store of `database`."""
    shown = database.shown
    if isinstance(error, StoreError):  # StoreUnavailable too: a driver failed
        # A store error's own detail, where it has one, says what failed and where (the
        # file, the server); else its cause does.
        specific = error.detail not in (type(error).default_detail, MnemoError.default_detail)
        reason = error.detail if specific else (_cause(error) or "it failed unexpectedly")
        return CliError(f"cannot use the database {shown}: {reason}", EXIT_UNAVAILABLE)
    if isinstance(error, NotFound | Conflict):
        return CliError(f"{error.detail} in {shown}", EXIT_FAILED)
    if isinstance(error, BadRequest | Unprocessable):
        return CliError(error.detail, EXIT_USAGE)
    return CliError(f"{error.detail} ({shown})", EXIT_FAILED)


def check_sqlite_file(database: DatabaseUrl) -> None:
    """Create the SQLite file's folder and check that the file can be opened or created
    there, so that a bad path fails at once, with its name, before the store starts."""
    path = Path(database.path)
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        blocked = Path(error.filename or folder)
        reason = "a file is in the way" if blocked.is_file() else os_reason(error)
        raise CliError(
            f"cannot create the folder {folder} for {database.shown}: {reason} ({blocked})",
            EXIT_UNAVAILABLE,
        ) from None
    if path.is_dir():
        raise CliError(f"{database.shown} names a folder, not a file", EXIT_UNAVAILABLE)
    try:
        if path.exists():
            with open(path, "r+b") as existing:
                header = existing.read(len(_SQLITE_HEADER))
            if header and header != _SQLITE_HEADER:
                raise CliError(f"{database.shown} is not a SQLite database", EXIT_UNAVAILABLE)
        elif not os.access(folder, os.W_OK | os.X_OK):
            raise PermissionError(13, "Permission denied")
    except OSError as error:
        raise CliError(
            f"cannot open {database.shown}: {os_reason(error)}", EXIT_UNAVAILABLE
        ) from None


@contextlib.contextmanager
def quiet_store_logs() -> Iterator[None]:
    """While a command runs, mnemo's own log records (a store's 'postgres unavailable'
    warning) are not printed: the command's one-line error says it."""
    logger = logging.getLogger("mnemo")
    handler = logging.NullHandler()
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def open_input(source: str) -> BinaryIO:
    """`source` opened for reading (bytes), or `CliError` saying why it cannot be."""
    try:
        stream = open(source, "rb")  # noqa: SIM115 (the caller closes it)
        stream.peek(1)  # a file that opens but cannot be read fails here, not midway
    except OSError as error:
        raise CliError(f"cannot read {source}: {os_reason(error)}", EXIT_UNAVAILABLE) from None
    if not os.path.isfile(source) and os.path.isdir(source):
        stream.close()
        raise CliError(f"cannot read {source}: it is a folder", EXIT_UNAVAILABLE)
    return stream


def open_stdin() -> BinaryIO:
    """Standard input as bytes, or `CliError` (exit 3) if the command was started
    with it closed (`<&-`)."""
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:
        raise CliError("cannot read stdin: it is closed", EXIT_UNAVAILABLE)
    return stream  # type: ignore[no-any-return]


def utf8_lines(stream: BinaryIO, source: str) -> Iterator[str]:
    """The lines of `stream` as text (without a byte order mark at the start);
    `CliError` at the first line that is not UTF-8."""
    lines = iter(stream)
    number = 0
    while True:
        try:
            raw = next(lines)
        except StopIteration:
            return
        except OSError as error:
            raise CliError(
                f"cannot read {source} after line {number}: {os_reason(error)}", EXIT_UNAVAILABLE
            ) from None
        number += 1
        try:
            text = raw.decode("utf-8")
            yield text.removeprefix(_BOM) if number == 1 else text
        except UnicodeDecodeError as error:
            raise CliError(
                f"{source}: line {number} is not UTF-8 text "
                f"(byte 0x{raw[error.start]:02x} at column {error.start + 1})",
                EXIT_USAGE,
            ) from None


class Output:
    """A file written in full or not at all: the text goes to a new file beside `path`
    (readable by its owner only: an export holds key hashes), renamed over `path`
    when the command succeeds. A device or pipe (`/dev/stdout`) is written directly."""

    def __init__(self, path: str) -> None:
        self.path = path
        target = Path(path)
        if target.is_dir():
            raise CliError(f"cannot write {path}: it is a folder", EXIT_UNAVAILABLE)
        self._direct = target.exists() and not target.is_file()
        try:
            if self._direct:
                self.stream: TextIO = open(path, "w", encoding="utf-8")  # noqa: SIM115
                self._temp = ""
            else:
                folder = target.parent
                if not folder.is_dir():
                    raise FileNotFoundError(2, f"no folder {folder}")
                handle, self._temp = tempfile.mkstemp(
                    prefix=f".{target.name}.", suffix=".partial", dir=folder
                )
                self.stream = os.fdopen(handle, "w", encoding="utf-8")
        except OSError as error:
            raise CliError(f"cannot write {path}: {os_reason(error)}", EXIT_UNAVAILABLE) from None

    def commit(self) -> None:
        try:
            self.stream.close()
            if self._temp:
                os.replace(self._temp, self.path)
                self._temp = ""
        except OSError as error:
            raise CliError(
                f"cannot write {self.path}: {os_reason(error)}", EXIT_UNAVAILABLE
            ) from None
        finally:
            self.discard()

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self.stream.close()
        if self._temp:
            with contextlib.suppress(OSError):
                os.unlink(self._temp)
            self._temp = ""


def with_store(settings: Settings, work: Callable[[Store], Awaitable[T]]) -> T:
    """Open the store (applying migrations), run `work`, close it. A store error (from
    opening or from `work`) ends the command with a line naming the database URL."""
    database = parse_database_url(settings.database_url)
    if database.kind == "sqlite":
        check_sqlite_file(database)

    async def run() -> T:
        store = store_for(settings)
        try:
            await store.open()
            return await work(store)
        except MnemoError as error:
            raise store_failure(error, database) from None
        finally:
            with contextlib.suppress(MnemoError):
                await store.close()

    with quiet_store_logs(), _interruptible():
        return asyncio.run(run())


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def _interruptible() -> Iterator[None]:
    """Ctrl-C stops the command wherever it is. `asyncio.run`'s own handler only
    cancels the main task at its next `await`, so a command blocked reading stdin
    (`import -`) would go on, and finish as if nothing happened; a handler of our own
    (which asyncio then leaves alone) raises `KeyboardInterrupt` at once (exit 130)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _click_error(error: Exception) -> int | None:
    """For an error of the command-line parser (click's, vendored by recent typer
    releases; recognised by its shape so either works): print it as one line and
    return its exit code (2 for a usage error). None for any other exception."""
    format_message = getattr(error, "format_message", None)
    code = getattr(error, "exit_code", None)
    if not callable(format_message) or not isinstance(code, int):
        return None
    message = " ".join(str(format_message()).split()).rstrip(".")
    if type(error).__name__ == "NoArgsIsHelpError":  # `mnemo keys`: the help is the answer
        if message and not message.startswith("Usage"):
            typer.echo(message)
        return code
    ctx = getattr(error, "ctx", None)
    path = getattr(ctx, "command_path", None)
    hint = f" (see '{path} --help')" if path and code == EXIT_USAGE else ""
    typer.echo(f"error: {message}{hint}", err=True)
    return code


def run_command(app: Callable[..., Any]) -> NoReturn:
    """Run a Typer `app` and exit; every error is one line on stderr and a documented code,
    with any password in it masked (`mask_urls_in`: whatever a driver's message held).

    Usage lines and hints name the command as the user ran it: `MNEMO_LAUNCHER`
    (`./run` sets it) or `mnemo`."""
    try:
        code = app(standalone_mode=False, prog_name=os.environ.get("MNEMO_LAUNCHER") or "mnemo")
        if code == EXIT_INTERRUPTED:  # typer's answer to Ctrl-C, which it does not print
            typer.echo("error: interrupted", err=True)
    except CliError as error:
        typer.echo(f"error: {mask_urls_in(error.message)}", err=True)
        code = error.code
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("error: interrupted", err=True)
        code = EXIT_INTERRUPTED
    except Exception as error:
        parsed = _click_error(error)
        if parsed is not None:
            code = parsed
        else:  # a defect: still one line, and the way to report it
            said = mask_urls_in(" ".join(str(error).split()))
            typer.echo(
                f"error: unexpected {type(error).__name__}: {said} "
                "(a bug in mnemo: please report it)",
                err=True,
            )
            code = EXIT_FAILED
    sys.exit(code if isinstance(code, int) else 0)
