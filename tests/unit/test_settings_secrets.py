"""Secrets in the settings never show: not in repr, str, a log line or a connector."""
from __future__ import annotations

import logging

from zhicheng.connectors.http import Policy, SignedClient
from zhicheng.settings import Settings

SECRETS = {"ZHICHENG_HALL_APP_SECRET": "hall-secret-3f9a1c", "ZHICHENG_CHSI_APP_SECRET": "chsi-secret-77b2e0",
           "ZHICHENG_PROVINCE_APP_SECRET": "province-secret-0d4e5f",
           "ZHICHENG_DATABASE_URL": "postgresql+psycopg://zhicheng:db-password-9c1b@127.0.0.1/zhicheng"}


def test_no_repr_str_or_log_line_shows_a_secret(monkeypatch, caplog):
    for key, value in SECRETS.items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    hall = settings.system("hall")
    with caplog.at_level(logging.INFO):
        logging.getLogger("zhicheng.test").info("settings %s %r; hall %s", settings, settings, hall)
    shown = " ".join([repr(settings), str(settings), repr(hall), str(hall), caplog.text,
                      repr(settings.model_dump()), repr(hall.model_dump())])
    for value in (*SECRETS.values(), "db-password-9c1b"):
        assert value not in shown


def test_the_secrets_are_there_for_whoever_signs_or_connects(monkeypatch):
    for key, value in SECRETS.items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    assert settings.system("chsi").app_secret.get_secret_value() == SECRETS["ZHICHENG_CHSI_APP_SECRET"]
    assert settings.resolved_database_url == SECRETS["ZHICHENG_DATABASE_URL"]
    client = SignedClient("hall", url="http://127.0.0.1:1", app_id="a",
                          secret=settings.system("hall").app_secret, policy=Policy())
    assert SECRETS["ZHICHENG_HALL_APP_SECRET"] not in repr(vars(client))
    assert client.secret.get_secret_value() == SECRETS["ZHICHENG_HALL_APP_SECRET"]


def test_without_a_database_url_the_workspace_sqlite_is_used(monkeypatch, tmp_path):
    monkeypatch.delenv("ZHICHENG_DATABASE_URL", raising=False)
    assert Settings(home=tmp_path).resolved_database_url == f"sqlite:///{tmp_path.resolve() / 'zhicheng.db'}"


def test_the_demo_summary_names_the_database_without_its_password(monkeypatch, tmp_path):
    from zhicheng.bootstrap import build_app
    from zhicheng.demo.driver import where
    monkeypatch.setenv("ZHICHENG_DATABASE_URL", SECRETS["ZHICHENG_DATABASE_URL"])
    app = build_app(settings=Settings(home=tmp_path))   # the engine connects on first use only
    shown = where(app, {"certificates": 0})["数据库"]
    assert "db-password-9c1b" not in shown and shown.endswith("@127.0.0.1/zhicheng")
