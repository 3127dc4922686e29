"""Settings: one typed object, read once from `MNEMO_*` environment variables.

Every field is documented in the README's configuration table.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./data/mnemo.db"


class Settings(BaseSettings):
    """Runtime configuration of one mnemo process."""

    model_config = SettingsConfigDict(env_prefix="MNEMO_", extra="ignore")

    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="sqlite:///PATH (relative) or sqlite:////ABS/PATH, or postgresql://...",
    )
    host: str = Field("127.0.0.1", description="Interface `mnemo serve` binds to.")
    port: int = Field(8080, ge=0, le=65535, description="TCP port `mnemo serve` listens on.")
    workers: int = Field(1, ge=1, le=64, description="Worker processes for `mnemo serve`.")
    max_body_bytes: int = Field(
        1_048_576, ge=1024, description="Largest request body accepted; larger is a 413."
    )
    max_header_bytes: int = Field(
        16_384, ge=1024, description="Largest total size of request headers; larger is a 431."
    )
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
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
    key_touch_interval_s: int = Field(
        60,
        ge=0,
        description="A key's `last used` is written at most this often (after the answer).",
    )
    dedup_enabled: bool = Field(
        True, description="Creating a memory that repeats one the user has returns that one."
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
    rate_limit_enabled: bool = Field(
        True, description="Per-key rate limits and their headers; false switches both off."
    )
    rate_limit_preset: Literal["self-hosted", "omi"] = Field(
        "self-hosted",
        description="self-hosted: 6000 reads, 3000 writes, 600 batches a minute per key; "
        "omi: Omi's 120 reads, 120 writes, 15 batches an hour per key.",
    )
    rate_limit_reads: int | None = Field(None, ge=1, description="Overrides the preset.")
    rate_limit_writes: int | None = Field(None, ge=1, description="Overrides the preset.")
    rate_limit_batches: int | None = Field(None, ge=1, description="Overrides the preset.")
    rate_limit_window_s: int | None = Field(
        None, ge=1, le=86_400, description="Window of every key policy; overrides the preset."
    )
    auth_failure_limit: int = Field(
        30, ge=1, description="Failed authentications allowed per client address per window."
    )
    auth_failure_window_s: int = Field(60, ge=1, le=86_400)
    redis_url: str | None = Field(
        None, description="redis://host:6379/0 to share rate-limit counters between workers."
    )
    llm_base_url: str | None = Field(
        None,
        description="OpenAI-compatible endpoint (e.g. http://127.0.0.1:11434/v1) used to "
        "categorise memories; unset: the offline classifier alone.",
    )
    llm_model: str | None = Field(None, description="Model name sent to the LLM endpoint.")
    llm_api_key: SecretStr | None = Field(None, description="Bearer key for the LLM endpoint.")
    llm_timeout_s: float = Field(
        5.0, gt=0, le=120, description="After this, the offline classifier answers instead."
    )
