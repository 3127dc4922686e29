"""mnemo-client: the Python client of mnemo's memories API (and of Omi's, for the routes
Omi has), sync and async, typed with the schemas the server uses.

    from mnemo_client import Client

    with Client() as client:  # MNEMO_BASE_URL and MNEMO_API_KEY, or arguments
        client.memories.create("User is vegetarian")

Importing it loads pydantic only, and httpx with the first use of a client; never
the server. See docs/sdk.md.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mnemo_client.calls import Call
    from mnemo_client.client import AsyncClient, Client
    from mnemo_client.config import DEFAULT_BASE_URL, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT_S
    from mnemo_client.errors import (
        APIConnectionError,
        APIResponseValidationError,
        APIStatusError,
        APITimeoutError,
        AuthenticationError,
        BadRequestError,
        InternalServerError,
        MnemoClientError,
        NotFoundError,
        PermissionDeniedError,
        RateLimitError,
        UnprocessableEntityError,
    )
    from mnemo_client.memories import DEFAULT_PAGE_SIZE
    from mnemo_client.models import (
        DeleteResult,
        Memory,
        MemoryBatchResult,
        MemoryCategory,
        MemoryCreate,
        MemoryCreated,
        MemoryVisibility,
        SearchItem,
        SearchResult,
    )
    from mnemo_client.version import __version__

# Each name is imported from its module on first use: `mnemo_client.models` (the
# schemas, which the server shares) can be imported without loading httpx.
_HOME = {
    "Call": "mnemo_client.calls",
    "AsyncClient": "mnemo_client.client",
    "Client": "mnemo_client.client",
    "DEFAULT_BASE_URL": "mnemo_client.config",
    "DEFAULT_MAX_RETRIES": "mnemo_client.config",
    "DEFAULT_TIMEOUT_S": "mnemo_client.config",
    "APIConnectionError": "mnemo_client.errors",
    "APIResponseValidationError": "mnemo_client.errors",
    "APIStatusError": "mnemo_client.errors",
    "APITimeoutError": "mnemo_client.errors",
    "AuthenticationError": "mnemo_client.errors",
    "BadRequestError": "mnemo_client.errors",
    "InternalServerError": "mnemo_client.errors",
    "MnemoClientError": "mnemo_client.errors",
    "NotFoundError": "mnemo_client.errors",
    "PermissionDeniedError": "mnemo_client.errors",
    "RateLimitError": "mnemo_client.errors",
    "UnprocessableEntityError": "mnemo_client.errors",
    "DEFAULT_PAGE_SIZE": "mnemo_client.memories",
    "DeleteResult": "mnemo_client.models",
    "Memory": "mnemo_client.models",
    "MemoryBatchResult": "mnemo_client.models",
    "MemoryCategory": "mnemo_client.models",
    "MemoryCreate": "mnemo_client.models",
    "MemoryCreated": "mnemo_client.models",
    "MemoryVisibility": "mnemo_client.models",
    "SearchItem": "mnemo_client.models",
    "SearchResult": "mnemo_client.models",
    "__version__": "mnemo_client.version",
}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(import_module(_HOME[name]), name)
    raise AttributeError(f"module 'mnemo_client' has no attribute {name!r}")


__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_PAGE_SIZE",
    "DEFAULT_TIMEOUT_S",
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "Call",
    "Client",
    "DeleteResult",
    "InternalServerError",
    "Memory",
    "MemoryBatchResult",
    "MemoryCategory",
    "MemoryCreate",
    "MemoryCreated",
    "MemoryVisibility",
    "MnemoClientError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "SearchItem",
    "SearchResult",
    "UnprocessableEntityError",
    "__version__",
]
