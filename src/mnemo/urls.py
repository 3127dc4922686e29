"""The URLs mnemo is given (database, Redis, language model): checked once, here, and
shown with their passwords masked.

Every check raises `ValueError` with one line that names the URL (masked) and says
what is allowed; `Settings` runs them when it is built, so a bad URL never reaches a
driver. `mask_url` is the one way to show a URL in a message; `mask_urls_in` masks every URL
in a text (mnemo.logs runs it on every log line).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = [
    "DatabaseUrl",
    "check_http_url",
    "check_redis_url",
    "mask_url",
    "mask_urls_in",
    "parse_database_url",
]

SQLITE_PREFIX = "sqlite:///"
POSTGRES_SCHEMES = ("postgresql", "postgres")  # libpq and asyncpg take both
REDIS_SCHEMES = ("redis", "rediss", "unix")
DATABASE_FORMS = "sqlite:///PATH or postgresql://USER@HOST:PORT/DATABASE"
_MASK = "***"
_PORTS = "a port is a number from 1 to 65535"
# `password=...` as a URL parameter (`?`, `&`) or a libpq keyword (`host=h password=p`),
# its value up to the next separator, or quoted.
_SECRET_PARAMS = re.compile(
    r"(?i)((?:^|[?&;\s])(?:password|sslpassword)\s*=\s*)('(?:[^'\\]|\\.)*'?|[^&#;\s]*)"
)
# A scheme and what may follow it before the user part: `postgresql://`, but also the
# malformed `postgresql:/` and `postgresql:` (still shown masked).
_SCHEME = re.compile(r"\s*[A-Za-z][A-Za-z0-9+.-]*:/*")
# A URL inside free text (a log line, an error): from its scheme to the next blank/quote.
_URL_IN_TEXT = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")


def mask_url(url: str) -> str:
    """`url` with the password of its user part and any `password=` parameter (or libpq
    `password=` keyword) replaced by `***`; also for a URL too malformed to use (one
    slash, no slash). Never raises."""
    scheme = _SCHEME.match(url)
    if scheme is not None:
        authority, slash, tail = _split_authority(url[scheme.end() :])
        user, at, hosts = authority.rpartition("@")
        if at and ":" in user:
            authority = f"{user.split(':', 1)[0]}:{_MASK}@{hosts}"
        url = f"{url[: scheme.end()]}{authority}{slash}{tail}"
    return _SECRET_PARAMS.sub(rf"\g<1>{_MASK}", url)


def mask_urls_in(text: str) -> str:
    """`text` (a log line, an error message) with `mask_url` applied to every URL in it
    and every `password=` value masked."""
    return _SECRET_PARAMS.sub(
        rf"\g<1>{_MASK}", _URL_IN_TEXT.sub(lambda m: mask_url(m.group(0)), text)
    )


def _split_authority(rest: str) -> tuple[str, str, str]:
    """(authority, separator, remainder) of what follows `scheme://`: the authority
    ends at the first `/`, `?` or `#` after the last `@` (a password may hold any)."""
    start = rest.rfind("@") + 1
    ends = [i for i in (rest.find(c, start) for c in "/?#") if i >= 0]
    end = min(ends) if ends else len(rest)
    return rest[:end], rest[end : end + 1], rest[end + 1 :]


@dataclass(frozen=True)
class DatabaseUrl:
    """A checked database URL: which backend, and for SQLite the file's path."""

    url: str
    kind: Literal["sqlite", "postgresql"]
    path: str = ""  # SQLite only: relative to the working directory, or absolute

    @property
    def shown(self) -> str:
        return mask_url(self.url)


def parse_database_url(url: str) -> DatabaseUrl:
    """Check a database URL; `ValueError` (one line, naming the masked URL) if it cannot
    name a database: no file or database name, an unknown scheme, a malformed port."""
    shown = mask_url(url)
    scheme = url.partition(":")[0].lower()
    if url != url.strip():
        raise ValueError(f"database URL {shown!r} starts or ends with white space")
    if scheme == "sqlite":
        return DatabaseUrl(url, "sqlite", _sqlite_path(url, shown))
    if scheme in POSTGRES_SCHEMES:
        _check_postgres(url, shown)
        return DatabaseUrl(url, "postgresql")
    raise ValueError(f"unsupported database URL {shown!r}: use {DATABASE_FORMS}")


def _sqlite_path(url: str, shown: str) -> str:
    forms = "sqlite:///relative/path.db or sqlite:////absolute/path.db"
    if url[: len(SQLITE_PREFIX)].lower() != SQLITE_PREFIX:
        raise ValueError(f"database URL {shown!r} needs three slashes before the path: {forms}")
    written = url[len(SQLITE_PREFIX) :]
    if "?" in written or "#" in written:
        raise ValueError(f"database URL {shown!r} takes no query or fragment: {forms}")
    path = unquote(written)  # a URL: sqlite:///my%20data/m.db is the folder "my data"
    if not path:
        raise ValueError(f"database URL {shown!r} names no file: {forms}")
    if path == ":memory:" or path.startswith("file:"):
        raise ValueError(
            f"database URL {shown!r} is not a file: mnemo needs a database file "
            f"that its processes share ({forms})"
        )
    if path.endswith(("/", "\\")) or path.rsplit("/", 1)[-1] in (".", ".."):
        raise ValueError(f"database URL {shown!r} names a folder, not a file: {forms}")
    return os.path.expanduser(path)  # sqlite:///~/mnemo.db: in the home folder, as meant


def _check_postgres(url: str, shown: str) -> None:
    form = "postgresql://USER@HOST:PORT/DATABASE"
    rest = url.partition("://")[2]
    authority, separator, tail = _split_authority(rest)
    hosts = authority.rpartition("@")[2]
    unescaped = _unescaped_in_user_info(url)
    if unescaped:  # the driver would take part of the password for the host
        raise ValueError(
            f"database URL {shown!r} has {unescaped} in its user name or password:"
            " percent-escape it (@ is %40, / is %2F, ? is %3F, # is %23)"
        )
    path, _, query_and_fragment = tail.partition("?") if separator == "/" else ("", "", tail)
    query = dict(parse_qsl(query_and_fragment.partition("#")[0], keep_blank_values=True))
    for host in hosts.split(",") if hosts else []:
        _check_port(_host_port(host, shown), shown)
    if "port" in query:
        _check_port(query["port"], shown)
    database = unquote(path) if separator == "/" else ""
    if not database and not query.get("dbname") and not query.get("database"):
        raise ValueError(f"database URL {shown!r} names no database: use {form}")


def _unescaped_in_user_info(url: str) -> str:
    """The characters ('@', '/', '?', '#') that a password holds unescaped, as the
    driver (asyncpg, like `urlsplit`) would split the URL: the user part ends at the
    first '@', the host part at the first '/', '?' or '#'; '' if none."""
    try:
        parts = urlsplit(url)
    except ValueError:  # an unclosed '[': the host check says so
        return ""
    query_key = parts.query.partition("=")[0]
    found = [
        char
        for char, where in (
            ("@", parts.netloc.partition("@")[2]),
            ("/", parts.path),
            ("?", query_key),
            ("#", parts.fragment),
        )
        if "@" in where
    ]
    return ", ".join(repr(char) for char in found)


def _host_port(host: str, shown: str) -> str | None:
    """The port written after one host (`host`, `host:5432`, `[::1]:5432`), or None."""
    if host.startswith("["):
        end = host.find("]")
        if end < 0:
            raise ValueError(f"database URL {shown!r} has an unclosed '[' in its host")
        rest = host[end + 1 :]
    else:
        rest = host[host.find(":") :] if ":" in host else ""
    if not rest:
        return None
    if not rest.startswith(":"):
        raise ValueError(f"database URL {shown!r} has a malformed host {host!r}")
    return rest[1:]


def _check_port(port: str | None, shown: str) -> None:
    if port is None:
        return
    if not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
        raise ValueError(f"database URL {shown!r} has a bad port {port!r}: {_PORTS}")


def check_redis_url(url: str) -> str:
    """`url` if redis-py can use it (redis://, rediss:// or unix://, a numeric port and
    database); otherwise `ValueError` naming the masked URL."""
    shown = mask_url(url)
    form = "redis://HOST:PORT/DB (or rediss:// for TLS, unix:///PATH for a socket)"
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    if scheme not in REDIS_SCHEMES:
        raise ValueError(f"Redis URL {shown!r} has no redis:// scheme: use {form}")
    try:
        parts = urlsplit(url)
        port = parts.port  # ValueError for a malformed or out-of-range port
    except ValueError:
        raise ValueError(f"Redis URL {shown!r} has a bad port: {_PORTS}") from None
    if scheme != "unix":
        if port == 0:
            raise ValueError(
                f"Redis URL {shown!r} has a bad port: a port is a number from 1 to 65535"
            )
        database = parts.path.strip("/")
        if database and not database.isdigit():
            raise ValueError(
                f"Redis URL {shown!r}: the database after the host is a number: {form}"
            )
    elif not parts.path:
        raise ValueError(f"Redis URL {shown!r} names no socket: use unix:///PATH")
    return url


def check_http_url(url: str, what: str) -> str:
    """`url` if it is an http:// or https:// URL with a host; otherwise `ValueError`."""
    shown = mask_url(url)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a malformed port)
    except ValueError:
        raise ValueError(f"{what} {shown!r} is not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{what} {shown!r} is not an http:// or https:// URL with a host")
    return url
