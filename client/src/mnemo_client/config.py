"""Where the client connects and with which key: arguments, else the environment.

The variables are read in pairs, so that one service's key is never sent to the other's
URL: `MNEMO_BASE_URL` and `MNEMO_API_KEY` when either is set, else Omi's `OMI_API_BASE`
and `OMI_API_KEY` (as the `omi` command-line client reads them). An argument wins over
its variable.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from mnemo_client.errors import MnemoClientError

DEFAULT_BASE_URL = "http://127.0.0.1:8080"  # `mnemo serve`'s default address
OMI_BASE_URL = "https://api.omi.me"  # Omi's hosted API, the `omi` client's default
DEFAULT_TIMEOUT_S = 30.0  # for each attempt: connecting, and each read or write
DEFAULT_MAX_RETRIES = 2  # retries after the first attempt (see docs/sdk.md)

# (base URL variable, key variable, default base URL), in the order they are looked for
ENV_PAIRS = (
    ("MNEMO_BASE_URL", "MNEMO_API_KEY", DEFAULT_BASE_URL),
    ("OMI_API_BASE", "OMI_API_KEY", OMI_BASE_URL),
)
# A key travels in a header: printable ASCII without spaces (mnemo's and Omi's are
# `omi_dev_` and hex).
_KEY = re.compile(r"[\x21-\x7e]+")


@dataclass(frozen=True)
class Target:
    base_url: str  # without a trailing slash
    api_key: str

    def __repr__(self) -> str:  # never the key
        return f"Target(base_url={self.base_url!r})"


def resolve(
    base_url: str | None, api_key: str | None, environ: Mapping[str, str] | None = None
) -> Target:
    """The base URL and key to use; raises MnemoClientError (without the key) if there is
    no key, or either is malformed."""
    env = os.environ if environ is None else environ
    url_var, key_var, default = next(
        (pair for pair in ENV_PAIRS if env.get(pair[0]) or env.get(pair[1])), ENV_PAIRS[0]
    )
    url = base_url if base_url is not None else env.get(url_var) or default
    key = api_key if api_key is not None else env.get(key_var)
    if not key:
        raise MnemoClientError(
            "no API key: pass api_key=, or set MNEMO_API_KEY (or OMI_API_KEY for Omi's API)"
        )
    if not _KEY.fullmatch(key):
        raise MnemoClientError(
            "the API key must be printable ASCII without spaces (mnemo's keys are "
            "omi_dev_ and 32 hex characters)"
        )
    return Target(_check_url(url.strip()), key)


def _check_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in ("http", "https") or not rest.strip("/"):
        raise MnemoClientError(
            f"base URL {url!r} is not an http:// or https:// URL (e.g. {DEFAULT_BASE_URL})"
        )
    if "?" in rest or "#" in rest:
        raise MnemoClientError(f"base URL {url!r} must have no query or fragment")
    return url.rstrip("/")
