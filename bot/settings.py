"""Runtime settings, read from environment variables and an optional `.env` file.

Every setting has a default that works with no set-up: SQLite and Chroma files under `data/`,
console mode when no Telegram token is given, extractive answers when no LLM is configured.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from db.care import institutions
from db.core import timeutil

PROJECT_ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE_DIR = PROJECT_ROOT / "knowledge"


class Settings(BaseSettings):
    """All settings of 托育助手 (see README for the table)."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    data_dir: Path = Field(default=Path("data"), description="Where the SQLite file and Chroma index live.")
    database_url: str = Field(default="", description="SQLAlchemy URL; empty means SQLite under data_dir.")
    knowledge_dir: Path = Field(default=KNOWLEDGE_DIR, description="Policy documents, filing workflow, dictionaries.")

    telegram_bot_token: str = ""
    telegram_base_url: str = ""
    telegram_base_file_url: str = ""

    # Webhook mode (`python -m bot run --webhook`), see docs/deploy.md.
    telegram_webhook_url: str = Field(
        default="", description="Public HTTPS URL Telegram posts updates to; its path is the path served."
    )
    telegram_webhook_secret: str = Field(
        default="", description="Required value of X-Telegram-Bot-Api-Secret-Token (1-256 of A-Z a-z 0-9 _ -)."
    )
    webhook_listen: str = Field(default="127.0.0.1", description="Address the webhook worker listens on.")
    webhook_port: int = Field(default=8080, description="Port the webhook worker listens on.")
    webhook_register: bool = Field(
        default=True,
        description="Call setWebhook at start. With N workers set it true on one worker only (or none and run "
        "`python -m bot webhook set` once).",
    )
    webhook_max_connections: int = Field(default=40, description="setWebhook max_connections (1-100).")
    run_jobs: bool = Field(
        default=True,
        description="Run scheduled jobs (booking reminders) in this process. With N workers: true on one only.",
    )

    # Throughput and outgoing limits.
    concurrent_updates: int = Field(default=64, description="Updates processed at once (one user's stay in order).")
    worker_threads: int = Field(
        default=32, description="Threads for database and CPU work off the event loop (at least CONCURRENT_UPDATES + 8)."
    )
    search_concurrency: int = Field(
        default=1, description="Policy searches run at once per process (CPU-bound; 0: no limit). Not applied with an LLM."
    )
    telegram_rate_limit: float = Field(
        default=30.0, description="Messages per second to Telegram overall (0: no overall limit; groups 20/min)."
    )
    telegram_max_retries: int = Field(default=3, description="Retries of a request Telegram answered 429 (retry_after).")
    alerts_rate: float = Field(
        default=25.0, ge=0, description="Policy-change alerts sent per second at most (0: no pacing; below Telegram's ~30/s)."
    )
    alerts_interval_s: float = Field(default=5.0, gt=0, description="How often the alerts job looks for changes to send.")

    # Database timeouts: a slow or absent database yields a short "busy" reply instead of a stall.
    db_busy_timeout_s: float = Field(default=5.0, description="SQLite: wait at most this long for a write lock.")
    db_connect_timeout_s: int = Field(default=5, description="PostgreSQL: connect timeout (seconds).")
    db_statement_timeout_ms: int = Field(default=15000, description="PostgreSQL: statement_timeout (0: none).")
    db_lock_timeout_ms: int = Field(default=5000, description="PostgreSQL: lock_timeout (0: none).")
    db_pool_size: int = Field(default=10, description="Connections kept open per process.")
    db_max_overflow: int = Field(default=20, description="Extra connections per process under load.")
    db_pool_timeout_s: float = Field(default=5.0, description="Wait at most this long for a free connection.")

    embedding_model: str = Field(
        default="use-multilingual-v3",
        description="'use-multilingual-v3' (bundled, numpy) or any sentence-transformers name or local path.",
    )
    chroma_host: str = ""
    chroma_port: int = 8000
    kb_sync_seconds: float = Field(
        default=2.0, ge=0, description="How often a worker checks the database for knowledge-base changes made elsewhere."
    )

    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key: str = "not-needed"

    default_language: str = "zh"
    admin_user_ids: str = Field(default="", description="Comma-separated Telegram user ids of the first admins.")
    timezone: str = Field(default="Asia/Shanghai", description="IANA zone of care times (sessions, today, reminders).")
    waitlist_hold_minutes: int = Field(default=30, ge=1, description="How long a freed place is held for the first in the waitlist.")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r} (an IANA name, e.g. Asia/Shanghai)") from None
        return value

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL, defaulting to a SQLite file under the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'tuoyu.sqlite3').as_posix()}"

    @property
    def engine_options(self) -> dict[str, float | int]:
        """Keyword arguments of `db.engine.make_engine` from the database settings."""
        return {
            "busy_timeout_s": self.db_busy_timeout_s,
            "connect_timeout_s": self.db_connect_timeout_s,
            "statement_timeout_ms": self.db_statement_timeout_ms,
            "lock_timeout_ms": self.db_lock_timeout_ms,
            "pool_size": self.db_pool_size,
            "max_overflow": self.db_max_overflow,
            "pool_timeout_s": self.db_pool_timeout_s,
        }

    @property
    def webhook_path(self) -> str:
        """The URL path the webhook worker serves: the path of TELEGRAM_WEBHOOK_URL (at least "/")."""
        from urllib.parse import urlsplit

        return urlsplit(self.telegram_webhook_url).path or "/"

    @property
    def index_dir(self) -> Path:
        """Directory of the policy index (Chroma files, BM25 cache, manifest)."""
        return self.data_dir / "index"

    @property
    def admin_ids(self) -> set[int]:
        """Parsed ADMIN_USER_IDS."""
        return {int(part) for part in self.admin_user_ids.replace(" ", "").split(",") if part}


def configure_layers(settings: Settings) -> None:
    """Hand the lower layers what they take from the settings (db/ reads no environment itself): the wall-clock
    timezone of care times and the knowledge folder. Called by `bot.app.build_application` and the CLI."""
    timeutil.configure(settings.timezone)
    institutions.configure(settings.knowledge_dir)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests construct their own `Settings` instead)."""
    return Settings()
