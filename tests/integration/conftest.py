"""Fixtures of the integration tier: the PDF inspector, and 学信 pointed at its stand-in."""
from __future__ import annotations

import pytest

from zhicheng.clock import local_date
from zhicheng.services.pdf_inspect import InspectLimits, Inspector


@pytest.fixture(scope="module")
def inspector():
    """One inspector subprocess for a module, with the default limits."""
    with Inspector(InspectLimits()) as ins:
        yield ins


@pytest.fixture
def chsi_env(app, chsi, standin_credentials, monkeypatch):
    """学信 settings naming the stand-in, whose "today" is the app clock's date."""
    app_id, secret = standin_credentials
    for key, value in {"URL": chsi.url, "APP_ID": app_id, "APP_SECRET": secret}.items():
        monkeypatch.setenv(f"ZHICHENG_CHSI_{key}", value)
    chsi.today_fixed = local_date(app.clock.now())
    return chsi


@pytest.fixture
def validate_pending(app, inspector):
    """Validate every pending application in one chunk, as one task of the flow does."""
    from zhicheng.services import validation

    def go() -> dict:
        with app.sessions() as s:
            ids = validation.pending(s)
        return validation.validate_chunk(sessions=app.sessions, application_ids=ids, config=app.config,
                                         now=app.clock.now(), files_root=app.settings.home, inspector=inspector)
    return go
