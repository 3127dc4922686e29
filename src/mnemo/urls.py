"""The URLs mnemo is given (database, Redis, language model): checked once, here, and
shown with their passwords masked.

Every check raises `ValueError` with one line that names the URL (masked) and says
what is allowed; `Settings` runs them when it is built, so a bad URL never reaches a
driver. `mask_url` is the one way to show a URL in a message or a log.
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
    "parse_database_url",
]

SQLITE_PREFIX = "sqlite:///"
POSTGRES_SCHEMES = ("postgresql", "postgres")  # libpq and asyncpg take both
REDIS_SCHEMES = ("redis", "rediss", "unix")
DATABASE_FORMS = "sqlite:///PATH or postgresql://USER@HOST:PORT/DATABASE"
_MASK = "***"
_PORTS = "a port is a number from 1 to 65535"
_SECRET_PARAMS = re.compile(r"(?i)([?&](?:password|sslpassword)=)[^&#]*")


def mask_url(url: str) -> str:
    """`url` with the password of its user part and any `password=` parameter replaced
    by `***`; anything that is not a URL is returned unchanged. Never raises."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, tail = _split_authority(rest)
    user, at, hosts = authority.rpartition("@")
    if at and ":" in user:
        authority = f"{user.split(':', 1)[0]}:{_MASK}@{hosts}"
    return _SECRET_PARAMS.sub(rf"\g<1>{_MASK}", f"{scheme}://{authority}{slash}{tail}")


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
    path = url[len(SQLITE_PREFIX) :]
    if not path:
        raise ValueError(f"database URL {shown!r} names no file: {forms}")
    if path == ":memory:" or path.startswith("file:"):
        raise ValueError(
            f"database URL {shown!r} is not a file: mnemo needs a database file "
            f"that its processes share ({forms})"
        )
    if "?" in path or "#" in path:
        raise ValueError(f"database URL {shown!r} takes no query or fragment: {forms}")
    if path.endswith(("/", "\\")) or path.rsplit("/", 1)[-1] in (".", ".."):
        raise ValueError(f"database URL {shown!r} names a folder, not a file: {forms}")
    return os.path.expanduser(path)  # sqlite:///~/mnemo.db: in the home folder, as meant


def _check_postgres(url: str, shown: str) -> None:
    form = "postgresql://USER@HOST:PORT/DATABASE"
    rest = url.partition("://")[2]
    authority, separator, tail = _split_authority(rest)
    hosts = authority.rpartition("@")[2]
    path, _, query_and_fragment = tail.partition("?") if separator == "/" else ("", "", tail)
    query = dict(parse_qsl(query_and_fragment.partition("#")[0], keep_blank_values=True))
    for host in hosts.split(",") if hosts else []:
        _check_port(_host_port(host, shown), shown)
    if "port" in query:
        _check_port(query["port"], shown)
    database = unquote(path) if separator == "/" else ""
    if not database and not query.get("dbname") and not query.get("database"):
        raise ValueError(f"database URL {shown!r} names no database: use {form}")


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
