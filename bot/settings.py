"""Runtime settings, read from environment variables and an optional `.env` file.

Every setting has a default that works with no set-up: SQLite and Chroma files under `data/`,
console mode when no Telegram token is given, extractive answers when no LLM is configured.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

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

    embedding_model: str = Field(
        default="use-multilingual-v3",
        description="'use-multilingual-v3' (bundled, numpy) or any sentence-transformers name or local path.",
    )
    chroma_host: str = ""
    chroma_port: int = 8000

    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key: str = "not-needed"

    default_language: str = "zh"
    admin_user_ids: str = Field(default="", description="Comma-separated Telegram user ids of the first admins.")
    timezone: str = "Asia/Shanghai"
    waitlist_hold_minutes: int = Field(default=30, ge=1, description="How long a freed place is held for the first in the waitlist.")

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL, defaulting to a SQLite file under the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'tuoyu.sqlite3').as_posix()}"

    @property
    def index_dir(self) -> Path:
        """Directory of the policy index (Chroma files, BM25 cache, manifest)."""
        return self.data_dir / "index"

    @property
    def admin_ids(self) -> set[int]:
        """Parsed ADMIN_USER_IDS."""
        return {int(part) for part in self.admin_user_ids.replace(" ", "").split(",") if part}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests construct their own `Settings` instead)."""
    return Settings()
