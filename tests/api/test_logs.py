"""mnemo.logs: the line format (time, level, request id, logger, one-line message), the
masking of passwords and keys in every line, and the request id of a 500 (answered
outside every other middleware)."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator

import httpx
import pytest

from mnemo import Settings, create_app
from mnemo.logs import LineFormatter, configure, redact

_LINE = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (?P<level>[A-Z]+) \[(?P<id>[^\]]+)\] "
    r"(?P<name>[\w.]+): (?P<message>.*)"
)


def _format(message: str, *args: object, exc: bool = False) -> str:
    record = logging.LogRecord("mnemo.test", logging.WARNING, __file__, 1, message, args, None)
    if exc:
        try:
            raise RuntimeError("postgresql://u:hunter2@h/db failed")
        except RuntimeError:
            import sys

            record.exc_info = sys.exc_info()
    return LineFormatter().format(record)


def test_a_line_has_time_level_request_id_logger_and_one_line_message() -> None:
    line = _format("first\nsecond\x1b[31m %s", "arg")
    found = _LINE.fullmatch(line)
    assert found, line
    assert found["level"] == "WARNING" and found["id"] == "-" and found["name"] == "mnemo.test"
    assert found["message"] == "first\\nsecond\\x1b[31m arg"


def test_passwords_and_keys_are_masked_in_every_line_and_traceback() -> None:
    key = "omi_dev_" + "a" * 32
    text = _format(
        "redis://:pw1@h:6379/0 and host=h password=pw2 and %s and OMI_DEV_%s",
        key,
        "B" * 32,
        exc=True,
    )
    for secret in ("pw1", "pw2", "hunter2", "a" * 32, "B" * 32):
        assert secret not in text, text
    assert "Traceback" in text and "redis://:***@h:6379/0" in text
    assert redact("nothing to hide") == "nothing to hide"


def test_configure_levels_mnemo_and_other_libraries() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level, logging.getLogger("mnemo").level)
    try:
        configure("debug", stream)
        logging.getLogger("mnemo.x").debug("mine")
        logging.getLogger("somelibrary").info("not shown")
        logging.getLogger("somelibrary").warning("shown")
        configure("error", stream)
        logging.getLogger("mnemo.x").warning("not shown either")
    finally:
        root.handlers, root.level = saved[0], saved[1]
        logging.getLogger("mnemo").setLevel(saved[2])
    lines = stream.getvalue().splitlines()
    assert [(_LINE.fullmatch(x) or {"message": x})["message"] for x in lines] == ["mine", "shown"]


@pytest.fixture
def broken(database_url: str) -> Iterator[tuple[httpx.AsyncClient, io.StringIO]]:
    app = create_app(Settings(database_url=database_url))

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("unexpected")

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(LineFormatter())
    logger = logging.getLogger("mnemo")
    logger.addHandler(handler)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        yield httpx.AsyncClient(transport=transport, base_url="http://mnemo.test"), stream
    finally:
        logger.removeHandler(handler)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_500_has_the_request_id_of_its_log_line(broken) -> None:
    client, stream = broken
    async with client:
        response = await client.get("/boom")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}
    request_id = response.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{16}", request_id)
    logged = [_LINE.match(line) for line in stream.getvalue().splitlines()]
    assert any(m and m["id"] == request_id and "GET /boom" in m["message"] for m in logged)
