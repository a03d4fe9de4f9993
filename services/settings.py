from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STANCE_", extra="ignore")

    home: Path = Field(default=Path(".stance"), description="State directory of the embedded run mode.")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    database_url: str | None = None
    redis_url: str | None = None
    log_level: str = "INFO"
    log_json: bool = False

    domain_pack: Path | None = Field(default=None, description="Domain pack file; the bundled one if unset.")

    max_article_bytes: int = Field(default=200_000, ge=1_000)
    max_batch_articles: int = Field(default=100, ge=1, le=1000)
    min_article_chars: int = Field(default=40, ge=1)

    queue: str = Field(default="stance", min_length=1, description="Celery queue the workers consume.")
    metrics_key: str | None = Field(
        default=None, description="When set, the API's /metrics requires `Authorization: Bearer <key>`."
    )
    metrics_port: int = Field(
        default=0, ge=0, le=65535, description="When set, the API serves /metrics on this port only."
    )
    worker_metrics_port: int = Field(
        default=9808, ge=0, le=65535, description="Where a worker serves its Prometheus metrics; 0 = nowhere."
    )
    worker_concurrency: int = Field(default=2, ge=1)
    broker_visibility_timeout_seconds: float = Field(
        default=15,
        gt=0,
        description="A message taken but not acknowledged this long (its worker died) is delivered again.",
    )
    extraction_max_attempts: int = Field(default=5, ge=1)
    extraction_piece_chars: int = Field(
        default=20_000,
        ge=1_000,
        description="A longer body is read in pieces of at most this many characters.",
    )
    extraction_max_chars: int = Field(
        default=400_000, ge=1_000, description="A longer body is skipped unread, with the reason."
    )
    extraction_time_limit_seconds: float = Field(
        default=300,
        gt=0,
        description="An extraction running longer is stopped and the article marked failed.",
    )
    stuck_article_seconds: int = Field(default=300, ge=5)
    projector_interval_seconds: float = Field(default=5.0, gt=0)
    read_cache_seconds: float = Field(
        default=0.05,
        ge=0,
        description="How often the API looks at the projection checkpoint; reads lag it by at most this.",
    )
    projector_batch_size: int = Field(default=1000, ge=1)

    secret_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Fernet keys, comma-separated, the first encrypting: webhook secrets at rest.",
    )
    webhook_allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_retry_schedule: Annotated[list[float], NoDecode] = Field(
        default_factory=lambda: [5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0]
    )
    webhook_disable_after_seconds: float = Field(default=5 * 24 * 3600, gt=0)
    webhook_secret_grace_seconds: float = Field(default=24 * 3600, ge=0)

    @field_validator("webhook_allowed_hosts", "secret_keys", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("webhook_retry_schedule", mode="before")
    @classmethod
    def _split_schedule(cls, value: object) -> object:
        if isinstance(value, str):
            return [float(part) for part in value.split(",") if part.strip()]
        return value

    @field_validator("database_url")
    @classmethod
    def _psycopg_driver(cls, value: str | None) -> str | None:
        if value and value.startswith(("postgres://", "postgresql://")):
            return "postgresql+psycopg://" + value.split("://", 1)[1]
        return value

    @property
    def embedded(self) -> bool:
        return self.database_url is None or self.redis_url is None

    def require_database_url(self) -> str:
        if not self.database_url:
            raise RuntimeError("STANCE_DATABASE_URL is not set; start the stack with `stance run`.")
        return self.database_url

    def require_redis_url(self) -> str:
        if not self.redis_url:
            raise RuntimeError("STANCE_REDIS_URL is not set; start the stack with `stance run`.")
        return self.redis_url


@lru_cache
def get_settings() -> Settings:
    return Settings()
