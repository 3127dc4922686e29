"""Settings: one typed object, read once from `MNEMO_*` environment variables.

Every field is documented in the README's configuration table.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from mnemo.models import MAX_REQUEST_CHARS
from mnemo.urls import check_http_url, check_redis_url, mask_url, parse_database_url

DEFAULT_DATABASE_URL = "sqlite:///./data/mnemo.db"


class Settings(BaseSettings):
    """Runtime configuration of one mnemo process."""

    model_config = SettingsConfigDict(env_prefix="MNEMO_", extra="ignore")

    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="sqlite:///PATH (relative) or sqlite:////ABS/PATH, or postgresql://...",
    )
    host: str = Field(
        "127.0.0.1",
        pattern=r"^\S+$",  # empty would bind every interface: 0.0.0.0 says so on purpose
        description="Interface `mnemo serve` binds to.",
        json_schema_extra={"allowed": "an address or host name of this machine, no spaces"},
    )
    port: int = Field(8080, ge=0, le=65535, description="TCP port `mnemo serve` listens on.")
    workers: int = Field(1, ge=1, le=64, description="Worker processes for `mnemo serve`.")
    max_body_bytes: int = Field(
        1_048_576, ge=1024, description="Largest request body accepted; larger is a 413."
    )
    max_header_bytes: int = Field(
        16_384, ge=1024, description="Largest total size of request headers; larger is a 431."
    )
    header_timeout_s: float = Field(
        20,
        ge=1,
        le=60,
        description="A connection must send a complete request head within this long of "
        "opening or of its previous answer, else it is closed: silent, trickling and idle "
        "keep-alive connections alike.",
    )
    body_timeout_s: float = Field(
        30,
        gt=0,
        le=3600,
        description="A request body not received whole within this long of its first read "
        "is a 408 and the connection is closed.",
    )
    max_concurrent_requests: int = Field(
        256,
        ge=1,
        le=65_536,
        description="Most requests one worker process handles at once; more wait in the "
        "listen queue until one ends.",
    )
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    access_log: bool = Field(
        False,
        description="Log a line per request (logger mnemo.access, with its request id; an "
        "access log cost 4-20% of list throughput when measured); the metrics count every "
        "request either way.",
    )
    sqlite_busy_timeout_ms: int = Field(
        30_000, ge=0, description="How long a SQLite writer waits for the file lock."
    )
    sqlite_synchronous: Literal["NORMAL", "FULL", "EXTRA"] = Field(
        "FULL", description="SQLite `synchronous` pragma; FULL fsyncs the WAL on every commit."
    )
    sqlite_read_connections: int = Field(
        4, ge=1, le=64, description="Read connections per process (one writer besides)."
    )
    vector_cache_mb: int = Field(
        256,
        ge=0,
        le=1_048_576,
        description="Most MB of users' vectors one process keeps for searches (0: none).",
    )
    postgres_pool_size: int = Field(
        10, ge=1, le=200, description="Most PostgreSQL connections one process opens."
    )
    postgres_connect_timeout_s: float = Field(
        10.0,
        gt=0,
        le=300,
        description="A PostgreSQL connection attempt that gets no answer gives up after this.",
    )
    key_touch_interval_s: int = Field(
        60,
        ge=0,
        description="A key's `last used` is written at most this often (after the answer).",
    )
    fast_path: bool = Field(
        True,
        description="Answer plain list and get-by-id requests ahead of FastAPI's router "
        "(the same answers); false sends every request through FastAPI.",
    )
    dedup_enabled: bool = Field(
        True, description="Creating a memory that repeats one the user has returns that one."
    )
    idempotency_ttl_s: int = Field(
        86_400,
        ge=1,
        le=30 * 86_400,
        description="How long a create sent with an Idempotency-Key keeps its answer "
        'for a retry with the same key (docs/api.md, "Idempotency").',
    )
    history_retention_days: int = Field(
        365,
        ge=0,
        le=36500,
        description="How long the history of memories' changes is kept (days; 0: forever); "
        "older rows are pruned in the background (docs/history.md).",
    )
    webhooks_allow_private: bool = Field(
        False,
        description="Allow webhook URLs whose host resolves to a loopback, private, "
        "link-local or other non-public address (self-hosted receivers, tests); false "
        "refuses them at registration and at every delivery.",
    )
    webhooks_timeout_s: float = Field(
        10.0,
        gt=0,
        le=60,
        description="A webhook delivery not answered (status line and headers) within this "
        "long counts as a failed attempt.",
    )
    webhooks_retry_s: float = Field(
        259_200,
        gt=0,
        le=30 * 86_400,
        description="How long a failing delivery is retried after its event (or its last "
        "replay) before it is kept as failed (seconds; 3 days by default).",
    )
    webhooks_backoff_s: float = Field(
        5.0,
        gt=0,
        le=3600,
        description="The wait after a delivery's first failed attempt, doubled after each "
        "further one (each wait times a random 0.5-1 for jitter).",
    )
    webhooks_backoff_max_s: float = Field(
        21_600,
        gt=0,
        le=86_400,
        description="The longest wait between two attempts of a delivery (6 hours by default).",
    )
    webhooks_keep_days: int = Field(
        30,
        ge=0,
        le=36500,
        description="How long delivered and failed webhook deliveries stay listed after "
        "their last attempt (days; 0: until their endpoint or user is deleted); older ones "
        "are pruned hourly.",
    )
    webhooks_poll_s: float = Field(
        1.0,
        gt=0,
        le=60,
        description="How often a process looks for webhook deliveries that are due.",
    )
    embed_lease_s: float = Field(
        60,
        gt=0,
        le=3600,
        description="How long a process's claim on queued embeddings holds before another "
        "process may take them over.",
    )
    embed_poll_s: float = Field(
        1.0,
        gt=0,
        le=60,
        description="How often an idle process looks for embeddings queued by other processes.",
    )
    embed_queue_user_limit: int = Field(
        1_000,
        ge=1,
        description="Memories of one user waiting for their embedding at which that user's "
        "creates, batches and content changes get 429 with Retry-After.",
    )
    embed_queue_limit: int = Field(
        20_000,
        ge=1,
        description="Memories of all users waiting for their embedding at which every "
        "create, batch and content change gets 503 with Retry-After.",
    )
    write_queue_user_limit: int = Field(
        64,
        ge=1,
        description="SQLite: writes of one user waiting for a process's writer thread at "
        "which that user's next write gets 429 with Retry-After.",
    )
    write_queue_limit: int = Field(
        1_024,
        ge=1,
        description="SQLite: writes of all users waiting for a process's writer thread at "
        "which every write gets 503 with Retry-After.",
    )
    rate_limit_enabled: bool = Field(
        True, description="Per-key rate limits and their headers; false switches both off."
    )
    rate_limit_preset: Literal["self-hosted", "omi"] = Field(
        "self-hosted",
        description="self-hosted: 6000 reads, 3000 writes, 600 batches and 100,000 "
        "characters embedded a minute per key; omi: Omi's 120 reads, 120 writes, 15 "
        "batches an hour per key, and 250,000 characters an hour.",
    )
    rate_limit_reads: int | None = Field(None, ge=1, description="Overrides the preset.")
    rate_limit_writes: int | None = Field(None, ge=1, description="Overrides the preset.")
    rate_limit_batches: int | None = Field(None, ge=1, description="Overrides the preset.")
    rate_limit_characters: int | None = Field(
        None,
        ge=MAX_REQUEST_CHARS,  # a full batch: every valid request fits in a fresh window
        description="Characters of memory content a key may send to be embedded per window "
        "(create, batch, PATCH of content); overrides the preset (self-hosted 100,000 a "
        "minute, omi 250,000 an hour).",
    )
    rate_limit_window_s: int | None = Field(
        None, ge=1, le=86_400, description="Window of every key policy; overrides the preset."
    )
    auth_failure_limit: int = Field(
        30, ge=1, description="Failed authentications allowed per client address per window."
    )
    auth_failure_window_s: int = Field(60, ge=1, le=86_400)
    admin_token: SecretStr | None = Field(
        None,
        description="Bearer token of the operator: the admin API (/v1/admin/...) and the web "
        "page's admin view; unset, both are off.",
    )
    ui_session_hours: float = Field(
        12,
        gt=0,
        le=720,
        description="The web page's sessions end this long after sign-in, at the latest "
        "(sooner on sign-out, when the browser closes, or when the key is revoked).",
    )
    ui_secure_cookies: bool = Field(
        False,
        description="Mark the web page's cookies `Secure` on every request (behind a TLS "
        "proxy that does not send X-Forwarded-Proto); they are whenever the request came "
        "over HTTPS.",
    )
    admin_import_max_bytes: int = Field(
        67_108_864,
        ge=1024,
        description="Largest body of an import: the admin API's (POST /v1/admin/import) "
        "and the web page's (POST /ui/import); larger is a 413.",
    )
    redis_url: str | None = Field(
        None, description="redis://host:6379/0 to share rate-limit counters between workers."
    )
    redis_max_connections: int = Field(
        32,
        ge=1,
        le=10_000,
        description="Most Redis connections one process opens; more requests queue for one.",
    )
    redis_timeout_s: float = Field(
        2.0,
        gt=0,
        le=60,
        description="Longest wait for a Redis connection, and for its answer; longer is a "
        "503 (the limits stay exact). Refused connections, or 3 timeouts in a row, mean "
        "Redis is down: each process counts on its own until it answers again.",
    )
    llm_base_url: str | None = Field(
        None,
        description="OpenAI-compatible endpoint (e.g. http://127.0.0.1:11434/v1) used to "
        "categorise memories and extract them from conversations; unset: the offline "
        "classifier and extractor alone.",
    )
    llm_model: str | None = Field(None, description="Model name sent to the LLM endpoint.")
    llm_api_key: SecretStr | None = Field(None, description="Bearer key for the LLM endpoint.")
    llm_timeout_s: float = Field(
        5.0,
        gt=0,
        le=120,
        description="After this, the offline classifier (or extractor) answers instead.",
    )

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        parse_database_url(value)
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        return None if value is None else check_redis_url(value)

    @field_validator("admin_token")
    @classmethod
    def _admin_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("the admin token must be at least 32 characters (not shown)")
        return value

    @field_validator("llm_base_url")
    @classmethod
    def _llm_base_url(cls, value: str | None) -> str | None:
        return None if value is None else check_http_url(value, "language model URL")


class InvalidSettings(ValueError):
    """Settings that cannot be used; `str()` is one line naming each bad setting as the
    user wrote it (`MNEMO_PORT` or `--port`), its value, and what is allowed."""


def load_settings(**flags: Any) -> Settings:
    """Settings from `MNEMO_*` variables, each flag given (not None) taking precedence.
    A flag's name is its field's with dashes: `database_url` is `--database-url`."""
    given = {name: value for name, value in flags.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as error:
        problems = [_describe(problem, given) for problem in error.errors()]
        raise InvalidSettings("; ".join(problems)) from None
    except SettingsError as error:  # a variable pydantic-settings could not even parse
        raise InvalidSettings(f"invalid settings in the environment: {error}") from None


def setting_label(name: str, flags: Mapping[str, Any] = {}) -> str:  # noqa: B006 (read only)
    """How the user wrote setting `name`: its flag if one was given, else its variable."""
    return "--" + name.replace("_", "-") if name in flags else f"MNEMO_{name.upper()}"


def _describe(problem: Any, flags: Mapping[str, Any]) -> str:
    name = str(problem["loc"][0]) if problem["loc"] else ""
    if name not in Settings.model_fields:
        return str(problem["msg"])
    label = setting_label(name, flags)
    if problem["type"] == "value_error":  # our own check: its message names the value
        reason = str(problem["msg"]).removeprefix("Value error, ")
        return f"invalid {label}: {reason}"
    raw = problem.get("input")
    secret = Settings.model_fields[name].annotation in (SecretStr, SecretStr | None)
    shown = "***" if secret else mask_url(str(raw))
    return f"invalid {label} {shown!r}: expected {allowed_values(name)}"


def allowed_values(name: str) -> str:
    """What setting `name` accepts, in words, from its type and bounds."""
    field = Settings.model_fields[name]
    extra = field.json_schema_extra
    if isinstance(extra, dict) and "allowed" in extra:
        return str(extra["allowed"])
    annotation: Any = field.annotation
    optional = False
    if get_origin(annotation) in (Union, types.UnionType):
        kinds = [arg for arg in get_args(annotation) if arg is not type(None)]
        optional, annotation = len(kinds) < len(get_args(annotation)), kinds[0]
    if get_origin(annotation) is Literal:
        text = "one of " + ", ".join(str(choice) for choice in get_args(annotation))
    elif annotation is bool:
        text = "true or false"
    elif annotation in (int, float):
        text = ("an integer" if annotation is int else "a number") + _bounds(field.metadata)
    else:
        text = "text"
    return text + (", or unset" if optional else "")


def _bounds(metadata: list[Any]) -> str:
    """' from 1 to 64', ' (at least 1)': the bounds pydantic keeps as `Ge`, `Le`... items."""
    low = high = ""
    for item in metadata:
        if getattr(item, "ge", None) is not None:
            low = f"at least {item.ge}"
        elif getattr(item, "gt", None) is not None:
            low = f"greater than {item.gt}"
        elif getattr(item, "le", None) is not None:
            high = f"at most {item.le}"
        elif getattr(item, "lt", None) is not None:
            high = f"less than {item.lt}"
    if low.startswith("at least") and high.startswith("at most"):
        return f" from {low.removeprefix('at least ')} to {high.removeprefix('at most ')}"
    parts = [part for part in (low, high) if part]
    return f" ({' and '.join(parts)})" if parts else ""
