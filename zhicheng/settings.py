"""Deployment settings from the environment (ZHICHENG_*) or a .env file.

Secrets live here, never in config/: config/ is policy data that is committed. They are
held as `SecretStr` (the app secrets, and the database URL, which may carry a
password): repr, str, logs and tracebacks show `**********`; only the code that signs a
request or opens the database unwraps one (`get_secret_value()`), where it is used.
"""
from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]


class ExternalSystem(BaseSettings):
    url: str | None = None
    app_id: str | None = None
    app_secret: SecretStr | None = None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ZHICHENG_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    home: Path = Field(default=Path(".zhicheng"))
    database_url: SecretStr | None = None   # may carry a password
    # PostgreSQL in production: `zhicheng db upgrade` migrates as this owner role and grants
    # the role of database_url (the runtime role) only what the audit trail allows.
    database_owner_url: SecretStr | None = None
    # A PostgreSQL schema to work in (tests and side-by-side installs); None: the default.
    database_schema: str | None = None
    config_dir: Path = Field(default=REPO_ROOT / "config")
    timezone: str = "Asia/Shanghai"
    # Where ZHICHENG_HOME/quality (the Data Docs) is served over HTTP, e.g.
    # http://quality.example.gov.cn/docs: the quality artifact's link then opens from any
    # machine. None: a file:// link, for a browser on this machine only.
    data_docs_url: str | None = None
    # Whether whole personal data may leave through `zhicheng export --unmasked` and
    # zhicheng.datasets(unmasked=True): for the registry's administrators only.
    export_unmasked: bool = False

    hall_url: str | None = None
    hall_app_id: str | None = None
    hall_app_secret: SecretStr | None = None
    chsi_url: str | None = None
    chsi_app_id: str | None = None
    chsi_app_secret: SecretStr | None = None
    province_url: str | None = None
    province_app_id: str | None = None
    province_app_secret: SecretStr | None = None
    # zhicheng web's staff sessions (docs/verification.md); unset: a key kept in the workspace
    web_session_secret: SecretStr | None = None

    @property
    def resolved_database_url(self) -> str:
        """The configured URL, or SQLite inside the workspace (the embedded default)."""
        if self.database_url and self.database_url.get_secret_value():
            return self.database_url.get_secret_value()
        return f"sqlite:///{(self.home / 'zhicheng.db').resolve()}"

    @property
    def owner_database_url(self) -> str | None:
        """The owner role's URL that migrations run as, if one is set (PostgreSQL)."""
        if self.database_owner_url and self.database_owner_url.get_secret_value():
            return self.database_owner_url.get_secret_value()
        return None

    def system(self, name: str) -> ExternalSystem:
        """URL and credentials of one external system: hall, chsi or province."""
        return ExternalSystem(
            url=getattr(self, f"{name}_url"),
            app_id=getattr(self, f"{name}_app_id"),
            app_secret=getattr(self, f"{name}_app_secret"),
        )


def get_settings() -> Settings:
    return Settings()
