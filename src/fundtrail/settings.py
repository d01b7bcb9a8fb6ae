"""One settings model for the whole system: FUNDTRAIL_* variables, then defaults.

The README's configuration table lists exactly these fields.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FUNDTRAIL_", extra="ignore")

    home: Path = Field(default=Path("./fundtrail-data"), description="workspace directory")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the intel store; default: SQLite file in the workspace",
    )
    secret_key: str | None = Field(
        default=None,
        description="key for victims' personal data at rest; default: a key file in the workspace",
    )
    spark_master: str = Field(default="local[2]", description="Spark master URL for --engine spark")
    confirmations: int = Field(default=6, description="Bitcoin confirmation depth kept reorg-safe")
    evm_confirmations: int = Field(default=12, description="EVM confirmation depth")
    max_body_bytes: int = Field(default=10 * 1024 * 1024, description="largest accepted HTTP body")
    screen_hops: int = Field(
        default=3, description="hops of indirect exposure in the screening index"
    )
    screen_background: bool = Field(
        default=True,
        description="the server rebuilds the screening index when its inputs change and "
        "drains screening decisions into the intel store, in background processes",
    )
    screen_durability: Literal["fsync", "write"] = Field(
        default="fsync",
        description="when a screening answer may go out: 'fsync' once its decision is flushed "
        "to disk; 'write' once it is written to the kernel (survives a killed server, not "
        "a power loss of the last few milliseconds; the disk flush follows at once)",
    )
    screen_retention_days: int = Field(
        default=1825, description="days screening decisions are kept for the regulator"
    )
    fiat_currency: str = Field(
        default="USD", description="currency of fiat values beside amounts (imported prices)"
    )
    webhook_allow_private: bool = Field(
        default=False, description="let webhooks target loopback/private addresses (tests only)"
    )
    request_kinds: str = Field(
        default="law-enforcement",
        description="kinds of organisation that may send freeze, preserve, identify or "
        "release requests to partners (comma-separated)",
    )
    durable_read_audit: bool = Field(
        default=False,
        description="on PostgreSQL, wait for the disk flush of every read-audit row",
    )
    memory_mb: int = Field(
        default=2048,
        ge=64,
        description="memory budget in MiB that ingest, clustering, tracing, linking and "
        "index builds size their caches and chunks by",
    )
    trusted_proxies: str = Field(
        default="",
        description="reverse proxies (addresses or CIDR networks, comma-separated) whose "
        "X-Forwarded-For names the client; default: none, the connecting peer is the client",
    )
    import_max_mb: int = Field(
        default=256,
        ge=1,
        description="largest file (MiB) an importer reads (intel, tags, complaints)",
    )
    import_max_seconds: int = Field(
        default=900, ge=1, description="longest an import may run before it is refused (seconds)"
    )
    host: str = Field(default="127.0.0.1", description="address `fundtrail serve` binds")
    port: int = Field(default=8000, description="port `fundtrail serve` binds")

    @property
    def sqlite_url(self) -> str:
        return f"sqlite:///{(self.home / 'intel.sqlite').resolve()}"

    @property
    def intel_url(self) -> str:
        return self.database_url or self.sqlite_url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget cached settings (tests and CLI overrides change the environment)."""
    get_settings.cache_clear()
