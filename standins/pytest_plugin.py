"""Pytest fixtures that start the stand-in servers on free ports with temporary state.

Registered in tests/conftest.py (`pytest_plugins`). When a test also uses a fixture
named `year_dir` (as an argument, or `pytestmark = pytest.mark.usefixtures("year_dir")`
for a whole module), the hall, 学信 and province fixtures load that year directory.

- `standin_credentials`: (app_id, secret) every stand-in here accepts
- `hall`, `chsi`, `province`: one running server each (`.url`, `.faults`, `.stop()`)
- `standins`: all three as a `StandIns` bundle, with the ZHICHENG_* environment set
  (URLs and credentials) so `Settings()` and the connectors find them
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from zhicheng.standins.chsi import Chsi
from zhicheng.standins.hall import Hall
from zhicheng.standins.launch import StandIns, start_standins
from zhicheng.standins.province import Province

APP_ID, APP_SECRET = "test-app", "test-secret-0123456789"


def _year_dir(request: pytest.FixtureRequest) -> Path | None:
    if "year_dir" in request.fixturenames:
        return Path(request.getfixturevalue("year_dir"))
    return None


@pytest.fixture
def standin_credentials() -> tuple[str, str]:
    return APP_ID, APP_SECRET


@pytest.fixture
def hall(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Hall]:
    server = Hall(state_path=tmp_path / "standins" / "hall.sqlite", year_dir=_year_dir(request),
                  secrets={APP_ID: APP_SECRET}).start()
    yield server
    server.stop()


@pytest.fixture
def chsi(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Chsi]:
    server = Chsi(state_path=tmp_path / "standins" / "chsi.sqlite", year_dir=_year_dir(request),
                  secrets={APP_ID: APP_SECRET}).start()
    yield server
    server.stop()


@pytest.fixture
def province(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Province]:
    server = Province(state_path=tmp_path / "standins" / "province.sqlite", year_dir=_year_dir(request),
                      secrets={APP_ID: APP_SECRET}).start()
    yield server
    server.stop()


@pytest.fixture
def standins(request: pytest.FixtureRequest, tmp_path: Path,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[StandIns]:
    bundle = start_standins(year_dir=_year_dir(request), state_dir=tmp_path / "standins",
                            app_id=APP_ID, app_secret=APP_SECRET)
    for key, value in bundle.env().items():
        monkeypatch.setenv(key, value)
    yield bundle
    bundle.stop()


class SignedCaller:
    """Plain `requests` with the contract's signing headers, for tests of the servers."""

    def __init__(self, app_id: str = APP_ID, secret: str = APP_SECRET) -> None:
        import requests
        self.app_id, self.secret = app_id, secret
        self.session = requests.Session()

    def __call__(self, server, method: str, target: str, json_body=None, *, body: bytes | None = None,
                 headers: dict | None = None, now: float | None = None, nonce: str | None = None,
                 timeout: float = 10):
        import json as _json
        import time

        from zhicheng.domain.signing import signed_headers
        if body is None:
            body = b"" if json_body is None else _json.dumps(json_body, ensure_ascii=False).encode()
        signed = signed_headers(self.app_id, self.secret, method, target, body,
                                int(now if now is not None else time.time()), nonce=nonce)
        all_headers = {**signed, **({"Content-Type": "application/json"} if body else {}), **(headers or {})}
        return self.session.request(method, server.url + target, data=body, headers=all_headers,
                                    timeout=timeout)


@pytest.fixture
def standin_call() -> Iterator[SignedCaller]:
    """`standin_call(hall, "GET", "/api/v1/submissions?limit=5")` -> requests.Response."""
    caller = SignedCaller()
    yield caller
    caller.session.close()
