"""mnemo-client: the Python client of mnemo's memories API (and of Omi's, for the routes
Omi has), sync and async, typed with the schemas the server uses.

    from mnemo_client import Client

    with Client() as client:  # MNEMO_BASE_URL and MNEMO_API_KEY, or arguments
        client.memories.create("User is vegetarian")

Importing it loads httpx and pydantic only, never the server. See docs/sdk.md.
"""

from __future__ import annotations

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
