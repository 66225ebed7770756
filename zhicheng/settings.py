"""Deployment settings from the environment (ZHICHENG_*) or a .env file.

Secrets live here, never in config/: config/ is policy data that is committed.
"""
from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]


class ExternalSystem(BaseSettings):
    url: str | None = None
    app_id: str | None = None
    app_secret: str | None = None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ZHICHENG_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    home: Path = Field(default=Path(".zhicheng"))
    database_url: str | None = None
    # A PostgreSQL schema to work in (tests and side-by-side installs); None: the default.
    database_schema: str | None = None
    config_dir: Path = Field(default=REPO_ROOT / "config")
    timezone: str = "Asia/Shanghai"

    hall_url: str | None = None
    hall_app_id: str | None = None
    hall_app_secret: str | None = None
    chsi_url: str | None = None
    chsi_app_id: str | None = None
    chsi_app_secret: str | None = None
    province_url: str | None = None
    province_app_id: str | None = None
    province_app_secret: str | None = None

    @property
    def resolved_database_url(self) -> str:
        """The configured URL, or SQLite inside the workspace (the embedded default)."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'zhicheng.db').resolve()}"

    def system(self, name: str) -> ExternalSystem:
        """URL and credentials of one external system: hall, chsi or province."""
        return ExternalSystem(
            url=getattr(self, f"{name}_url"),
            app_id=getattr(self, f"{name}_app_id"),
            app_secret=getattr(self, f"{name}_app_secret"),
        )


def get_settings() -> Settings:
    return Settings()
