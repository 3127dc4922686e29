"""Sending one delivery: signed per Standard Webhooks, to the address checked
(mnemo.webhooks.addresses), no redirect followed, within a time limit."""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import secrets
from datetime import UTC, datetime

import httpx
from standardwebhooks import Webhook

from mnemo.webhooks.addresses import Refused, checked_address, parse_url

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
MAX_ERROR_CHARS = 300


def new_secret() -> str:
    """A signing secret: whsec_ and 32 random bytes in base64 (Standard Webhooks' form)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signed_headers(secret: str, message_id: str, body: bytes, at: datetime) -> dict[str, str]:
    """`webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature` (`v1,`
    and the base64 HMAC-SHA256 of `id.timestamp.body`)."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, at, body.decode()),
    }


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


async def send(
    client: httpx.AsyncClient,
    url: str,
    secret: str,
    message_id: str,
    body: bytes,
    *,
    allow_private: bool,
    timeout_s: float,
) -> str | None:
    """POST the signed body to `url`; None if it answered 2xx, else why not (one line,
    at most `MAX_ERROR_CHARS`; never the body)."""
    try:
        parsed = parse_url(url)
        address = await checked_address(parsed, allow_private)
        headers = {
            "host": parsed.netloc.decode("ascii"),
            "content-type": "application/json",
            **signed_headers(secret, message_id, body, datetime.now(UTC)),
        }
        extensions = {}
        if parsed.scheme == "https" and not _is_address(parsed.host):
            extensions["sni_hostname"] = parsed.host  # the certificate is checked for it
        request = client.build_request(
            "POST",
            parsed.copy_with(host=str(address)),
            content=body,
            headers=headers,
            extensions=extensions,
        )
        async with asyncio.timeout(timeout_s):
            response = await client.send(request, stream=True)
            await response.aclose()  # the answer's body is not read
    except Refused as refused:
        return f"refused: {refused}"[:MAX_ERROR_CHARS]
    except TimeoutError:
        return f"no answer within {timeout_s:g}s"
    except httpx.HTTPError as error:
        return f"{type(error).__name__}: {error}"[:MAX_ERROR_CHARS]
    if 200 <= response.status_code < 300:
        return None
    if 300 <= response.status_code < 400:
        return f"HTTP {response.status_code} (redirects are not followed)"
    return f"HTTP {response.status_code}"
