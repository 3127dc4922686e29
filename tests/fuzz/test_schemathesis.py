"""Schemathesis against the live OpenAPI document of a real server: no 500, and every
response matches the documented schema (status, headers, body). CI runs a bounded number
of examples per operation; MNEMO_FUZZ_EXAMPLES=2000 runs a longer campaign (see
docs/security.md)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from mnemo import Settings, create_app
from tests.e2e.server import Server, start_server

EXAMPLES = int(os.environ.get("MNEMO_FUZZ_EXAMPLES", "40"))
ADMIN_TOKEN = "f" * 40
# The admin API's import takes JSON Lines: a user record of a name the API accepts.
_USER_LINE = '{{"kind":"user","id":"{0}","name":"{0}","created_at":"2026-01-01T00:00:00Z"}}\n'
schemathesis.openapi.media_type(
    "application/x-ndjson",
    st.from_regex(r"[a-z][a-z0-9]{0,20}", fullmatch=True).map(
        lambda name: _USER_LINE.format(name).encode()
    ),
)
# The operations, read from the app's own document (no server needed to collect);
# negative data only for those that take parameters or a body.
_DOCUMENT = create_app(Settings()).openapi()
CASES = [
    (path, method, mode)
    for path, item in _DOCUMENT["paths"].items()
    for method, operation in item.items()
    for mode in GenerationMode
    if mode.is_positive or operation.get("parameters") or operation.get("requestBody")
]


# Rules between fields that a JSON schema cannot state, each answered with its documented
# 422 (docs/api.md, "Conversations"): `finished_at` after `started_at`, a segment's `end`
# after its `start`, times within 1900-9999. Schema-valid bodies may break them, so
# "positive data is accepted" cannot hold for these operations; every other check does.
# Likewise a webhook URL: its schema states the scheme, the characters and no user name,
# but not that the host and port parse as a URL (docs/api.md: 422 "Cannot send
# webhooks there: the URL is not a valid URL").
CROSS_FIELD_RULES = {
    ("/v1/dev/user/conversations", "post"),
    ("/v1/dev/user/conversations/from-segments", "post"),
    ("/v1/dev/user/webhooks", "post"),
    ("/v1/admin/webhooks", "post"),
}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz')}/fuzz.db"
    server = start_server(
        url,
        extra_env={
            "MNEMO_RATE_LIMIT_ENABLED": "false",
            "MNEMO_ADMIN_TOKEN": ADMIN_TOKEN,
            # any well-formed webhook URL is then accepted (its address is not public:
            # a 422 by default; a host that does not resolve is checked at delivery)
            "MNEMO_WEBHOOKS_ALLOW_PRIVATE": "true",
        },
    )
    try:
        yield server
    finally:
        server.stop()
        assert "Traceback" not in "\n".join(server.output)


@pytest.fixture(scope="module")
def api_schema(live: Server) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{live.base}/openapi.json")


@pytest.mark.parametrize(("path", "method", "mode"), CASES)
def test_every_operation_holds_its_contract(
    api_schema: schemathesis.BaseSchema, live: Server, path: str, method: str, mode: GenerationMode
) -> None:
    """Never a 5xx, an undocumented status, content type, header or body; positive data
    is accepted. (Negative data is not required to be refused: mnemo ignores unknown
    query parameters and body fields, as Omi does, and the harness always sends a key.)"""
    operation = api_schema[path][method]
    secret = ADMIN_TOKEN if path.startswith("/v1/admin/") else live.first_key
    headers = {"Authorization": f"Bearer {secret}"}

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def holds(case: schemathesis.Case) -> None:
        if mode.is_positive and case.headers and "Idempotency-Key" in case.headers:
            # a fresh key: a key the campaign used already, with another body, is a 422
            # by design (docs/api.md, Idempotency); malformed keys are negative data
            case.headers["Idempotency-Key"] = str(uuid.uuid4())
        excluded = [negative_data_rejection] if mode.is_negative else []
        if (path, method) in CROSS_FIELD_RULES:
            excluded.append(positive_data_acceptance)
        case.call_and_validate(headers=headers, excluded_checks=excluded or None)

    holds()
