"""No password of a database or Redis URL, and no API key, reaches any output: the
start banner, the server's log lines (debug level, access log on), response bodies and
headers, `/metrics`, the command line's errors; whatever the URL's form (user part,
`password=` parameter, libpq keywords, malformed), and whatever the failure."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests import pg
from tests.e2e.server import run_cli, start_server
from tests.helpers import MEMORIES


def _password() -> str:
    return f"pw{uuid.uuid4().hex}"


def _with_password(url: str, password: str) -> str:
    """The test server's URL with a password in its user part (trust auth ignores it)."""
    return url.replace("postgresql://postgres@", f"postgresql://postgres:{password}@", 1)


def test_a_running_server_never_shows_its_database_password() -> None:
    password = _password()
    schema, url = pg.create_schema()
    # in the user part and as a parameter (libpq reads it; trust ignores it)
    database_url = _with_password(url, password) + f"&sslpassword={password}"
    server = start_server(database_url, log_level="debug", extra_env={"MNEMO_ACCESS_LOG": "true"})
    seen: list[str] = []
    try:
        headers = {"Authorization": f"Bearer {server.first_key}"}
        with httpx.Client(base_url=server.base, timeout=30) as client:
            for method, path, body in [
                ("GET", MEMORIES, None),
                ("POST", MEMORIES, {"content": "User likes tea"}),
                ("POST", MEMORIES, {"content": ""}),
                ("GET", f"{MEMORIES}?limit=1.0", None),
                ("GET", f"{MEMORIES}/nope", None),
                ("PUT", MEMORIES, None),
                ("GET", "/readyz", None),
                ("GET", "/metrics", None),
                ("GET", "/openapi.json", None),
                # a URL with a password in the request itself: the access log masks it
                ("GET", f"/x?u=redis://:{password}@h:6379/0", None),
            ]:
                response = client.request(method, path, json=body, headers=headers)
                assert response.status_code < 500, (method, path, response.text)
                seen += [response.text, str(response.headers)]
    finally:
        server.stop()
        pg.drop_schema(schema)
    output = "\n".join(server.output)
    assert "postgres:***@" in output  # the banner names the database, masked
    assert "/x?u=redis://:***@h:6379/0" in output  # the access line, masked
    after_banner = output.split("Get an API key for a user", 1)[1]  # the key, once, above
    for text in [output, *seen]:
        assert password not in text
    for text in [after_banner, *seen]:
        assert server.first_key and server.first_key[8:] not in text


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres:{pw}@127.0.0.1:1/test",  # nothing listens
        "postgresql://postgres:{pw}@127.0.0.1:5432/nosuchdb",
        "postgresql://postgres@127.0.0.1:5432/test?password={pw}&sslmode=bogus",
        "postgresql://postgres:{pw}@127.0.0.1:99999/test",
        "postgresql:/postgres:{pw}@127.0.0.1/test",
        "postgresql:postgres:{pw}@127.0.0.1/test",
        "host=127.0.0.1 dbname=test password={pw}",
        "host=127.0.0.1 dbname=test password='{pw} x'",
        "mysql://u:{pw}@h/db",
    ],
)
def test_command_line_errors_never_show_a_database_password(url: str) -> None:
    password = _password()
    for command in (["migrate"], ["serve", "--port", "0"], ["keys", "list"]):
        result = run_cli(*command, "--database-url", url.format(pw=password), timeout=60)
        assert result.returncode != 0
        assert "error: " in result.stderr, result.stderr
        assert password not in result.stdout + result.stderr, (command, result.stderr)


@pytest.mark.parametrize(
    "url",
    [
        "redis://:{pw}@127.0.0.1:1/0",  # nothing listens
        "redis://default:{pw}@127.0.0.1:6379/0",  # Redis' `default` user takes any password
        "redis://:{pw}@127.0.0.1:6379/x",
        "redis:/:{pw}@127.0.0.1:6379/0",
        "redis://127.0.0.1:6379/0?password={pw}",
    ],
)
def test_serve_never_shows_a_redis_password(tmp_path, url: str) -> None:
    """Whether `serve` refuses the URL or runs with it, its output never shows it."""
    password = _password()
    env = {"MNEMO_REDIS_URL": url.format(pw=password), "MNEMO_ACCESS_LOG": "true"}
    try:
        server = start_server(f"sqlite:///{tmp_path}/r.db", extra_env=env, log_level="debug")
    except RuntimeError as refused:  # it exited: the error, and all it printed before
        output = str(refused)
        assert "error: " in output
    else:
        try:
            headers = {"Authorization": f"Bearer {server.first_key}"}
            assert httpx.get(f"{server.base}{MEMORIES}", headers=headers).status_code == 200
        finally:
            server.stop()
        output = "\n".join(server.output)
    assert password not in output, output
