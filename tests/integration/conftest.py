"""Fixtures of the integration tier: the PDF inspector, 学信 and the province pointed at
their stand-ins."""
from __future__ import annotations

import pytest

from zhicheng.clock import local_date
from zhicheng.files.pdf_inspect import InspectLimits, Inspector


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
def province_env(province, standin_credentials, monkeypatch):
    """Province settings naming its stand-in."""
    app_id, secret = standin_credentials
    for key, value in {"URL": province.url, "APP_ID": app_id, "APP_SECRET": secret}.items():
        monkeypatch.setenv(f"ZHICHENG_PROVINCE_{key}", value)
    return province


@pytest.fixture
def look_up_priors(app):
    """Look up every awaiting 补办/换发/历史登记 number, as the validate flow's step does."""
    from zhicheng.connectors.province import ProvinceClient
    from zhicheng.db.engine import unit_of_work
    from zhicheng.issuance import lifecycle
    from zhicheng.settings import Settings

    def go() -> dict:
        with app.sessions() as s:
            ids = lifecycle.awaiting(session=s)
        with ProvinceClient.from_settings(Settings(), app.config) as client, \
                unit_of_work(app.sessions) as s:
            return lifecycle.lookup_chunk(session=s, client=client, application_ids=ids,
                                          now=app.clock.now()).as_dict()
    return go


@pytest.fixture
def validate_pending(app, inspector):
    """Validate every pending application in one chunk, as one task of the flow does."""
    from zhicheng.validation import service as validation

    def go() -> dict:
        with app.sessions() as s:
            ids = validation.pending(session=s)
        return validation.validate_chunk(sessions=app.sessions, application_ids=ids, config=app.config,
                                         now=app.clock.now(), files_root=app.settings.home, inspector=inspector)
    return go
