"""Database, Redis and language-model URLs: what is refused, in what words, and masking."""

from __future__ import annotations

import os

import pytest

from mnemo.urls import (
    check_http_url,
    check_redis_url,
    mask_url,
    mask_urls_in,
    parse_database_url,
)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:hunter2@h:5432/db", "postgresql://u:***@h:5432/db"),
        (
            "postgresql://u:p@ss/w@h/db?password=hunter2&x=1",
            "postgresql://u:***@h/db?password=***&x=1",
        ),
        ("redis://:hunter2@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
        ("postgres://u@h/db", "postgres://u@h/db"),
        ("sqlite:///./data/mnemo.db", "sqlite:///./data/mnemo.db"),
        ("not a url", "not a url"),
        ("", ""),
        # malformed URLs are still shown masked
        ("postgresql:/u:hunter2@h/db", "postgresql:/u:***@h/db"),
        ("postgresql:u:hunter2@h/db", "postgresql:u:***@h/db"),
        ("redis:/:hunter2@h:6379/0", "redis:/:***@h:6379/0"),
        # libpq keyword/value strings
        ("host=h password=hunter2 dbname=d", "host=h password=*** dbname=d"),
        ("host=h PASSWORD = 'hunter 2' dbname=d", "host=h PASSWORD = *** dbname=d"),
        ("password=hunter2", "password=***"),
        ("C:\\data\\mnemo.db", "C:\\data\\mnemo.db"),
    ],
)
def test_mask_url(url: str, shown: str) -> None:
    assert mask_url(url) == shown


def test_mask_urls_in_masks_every_url_of_a_text() -> None:
    text = (
        "cannot reach redis://:hunter2@h:6379/0 (tried 'postgresql://u:secret@h/db?x=1'),"
        " then host=h password=third; keep http://example.com/a"
    )
    assert mask_urls_in(text) == (
        "cannot reach redis://:***@h:6379/0 (tried 'postgresql://u:***@h/db?x=1'),"
        " then host=h password=***; keep http://example.com/a"
    )


def test_a_sqlite_path_from_home_is_expanded() -> None:
    parsed = parse_database_url("sqlite:///~/mnemo/m.db")
    assert parsed.path == os.path.join(os.path.expanduser("~"), "mnemo", "m.db")
    assert parsed.shown == "sqlite:///~/mnemo/m.db"


@pytest.mark.parametrize(
    ("url", "kind", "path"),
    [
        ("sqlite:///./data/mnemo.db", "sqlite", "./data/mnemo.db"),
        ("sqlite:////var/lib/mnemo/m.db", "sqlite", "/var/lib/mnemo/m.db"),
        ("sqlite:///My Documents/m.db", "sqlite", "My Documents/m.db"),
        ("sqlite:///My%20Documents/r%C3%A9sum%C3%A9.db", "sqlite", "My Documents/résumé.db"),
        ("sqlite:///100%25.db", "sqlite", "100%.db"),
        ("postgresql://u:p%40ss%2Fw%3F%23@h/db", "postgresql", ""),  # escaped: as meant
        ("postgresql://postgres@127.0.0.1:5432/test?search_path=x", "postgresql", ""),
        ("postgres://postgres@127.0.0.1/test", "postgresql", ""),  # libpq's alias
        ("postgresql:///test", "postgresql", ""),  # the local socket
        ("postgresql://h1:5432,h2:5433/test", "postgresql", ""),
        ("postgresql://[::1]:5432/test", "postgresql", ""),
        ("postgresql://h/?dbname=test", "postgresql", ""),
    ],
)
def test_good_database_urls(url: str, kind: str, path: str) -> None:
    parsed = parse_database_url(url)
    assert (parsed.kind, parsed.path, parsed.url) == (kind, path, url)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("sqlite:///", "names no file"),
        ("sqlite://m.db", "three slashes"),
        ("sqlite:m.db", "three slashes"),
        ("sqlite:///:memory:", "not a file"),
        ("sqlite:///m.db?mode=ro", "no query"),
        ("sqlite:///data/", "names a folder"),
        ("sqlite:///data/..", "names a folder"),
        ("postgresql://", "names no database"),
        ("postgresql://h:5432", "names no database"),
        ("postgres://u:hunter2@h/", "names no database"),
        ("postgresql://h:abc/db", "bad port 'abc'"),
        ("postgresql://h:0/db", "bad port '0'"),
        ("postgresql://h:65536/db", "bad port '65536'"),
        ("postgresql://h1:5432,h2:x/db", "bad port 'x'"),
        ("postgresql://h/db?port=x", "bad port 'x'"),
        ("postgresql://[::1/db", "unclosed"),
        # A password's @ / ? # unescaped: the driver would take part of it for the host.
        ("postgresql://u:hunter2@x@h:5432/db", "'@' in its user name or password"),
        ("postgresql://u:hunter2/x@h/db", "'/' in its user name or password"),
        ("postgresql://u:hunter2?x@h/db", "'?' in its user name or password"),
        ("postgresql://u:hunter2#x@h/db", "'#' in its user name or password"),
        ("mysql://root@h/db", "unsupported database URL"),
        ("./data/mnemo.db", "unsupported database URL"),
        ("", "unsupported database URL"),
        (" sqlite:///m.db", "white space"),
    ],
)
def test_bad_database_urls(url: str, words: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_database_url(url)
    message = str(raised.value)
    assert words in message and repr(mask_url(url)) in message and "\n" not in message
    assert "hunter2" not in message


@pytest.mark.parametrize(
    "url", ["redis://127.0.0.1:6379/0", "rediss://:pw@h:6380", "redis://h", "unix:///tmp/r.sock"]
)
def test_good_redis_urls(url: str) -> None:
    assert check_redis_url(url) == url


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("127.0.0.1:6379", "no redis:// scheme"),
        ("http://h:6379", "no redis:// scheme"),
        ("redis://h:abc", "bad port"),
        ("redis://:hunter2@h:0", "bad port"),
        ("redis://h:6379/zero", "database after the host is a number"),
        ("unix://", "names no socket"),
    ],
)
def test_bad_redis_urls(url: str, words: str) -> None:
    with pytest.raises(ValueError) as raised:
        check_redis_url(url)
    assert words in str(raised.value) and "hunter2" not in str(raised.value)


def test_http_urls() -> None:
    assert check_http_url("http://127.0.0.1:11434/v1", "x") == "http://127.0.0.1:11434/v1"
    for bad in ("127.0.0.1:11434", "ftp://h/", "http://", "http://h:port/"):
        with pytest.raises(ValueError):
            check_http_url(bad, "language model URL")
