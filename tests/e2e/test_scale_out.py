"""Scale-out as operators run it (docs/scale-out.md): a Prefect server on PostgreSQL,
the `issue` deployment in a process work pool, two workers, two flow runs at once on
one PostgreSQL registry; then the flow run page in the Prefect UI, in a real browser."""
import datetime as dt
import shutil
import uuid
from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import sessionmaker

from support import PG_URL
from zhicheng.config import get_config
from zhicheng.db.engine import unit_of_work
from zhicheng.demo.issuance_samples import add_approved
from zhicheng.issuance.keys import KeyStore
from zhicheng.issuance.models import Certificate
from zhicheng.reference import sync_reference_data
from zhicheng.schema import Base

from conftest import wait_until

pytestmark = pytest.mark.slow
COUNT = 600


@pytest.fixture
def registry(tmp_path):
    name = f"zc_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    config = get_config()
    with unit_of_work(sessionmaker(engine)) as s:
        sync_reference_data(session=s, config=config)
        add_approved(session=s, config=config, count=COUNT // 2, committee_id="NJ-GC-ZJ")
        add_approved(session=s, config=config, count=COUNT // 2, start=5000, committee_id="TZ-GC-ZJ")
    home = tmp_path / "home"
    keys = KeyStore.for_home(home)  # made once here: two workers must not race to make them
    for issuer in ("320100", "321200"):
        keys.generate(issuer, now=dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc))
    yield url, engine, home
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_two_workers_issue_one_registry_gapless_then_the_ui_shows_the_run(prefect_server, registry, tmp_path):
    from prefect.settings import PREFECT_API_URL, temporary_settings
    url, engine, home = registry
    with temporary_settings({PREFECT_API_URL: prefect_server.api}):  # settings are read once at import
        runs = _issue_on_two_workers(prefect_server, url, home)
    with sessionmaker(engine)() as s:
        certs = list(s.scalars(select(Certificate)))
    assert len(certs) == COUNT and len({c.application_id for c in certs}) == COUNT
    serials = defaultdict(list)
    for c in certs:
        serials[c.certificate_no[:11]].append(int(c.certificate_no[11:17]))
    for key, got in serials.items():
        assert sorted(got) == list(range(1, len(got) + 1)), f"gaps or repeats in {key}"
    _ui_shows(prefect_server, runs[0].id, tmp_path)


def _issue_on_two_workers(prefect_server, url, home):
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from zhicheng.deploy import ensure_work_pool
    from zhicheng.deployments import build_deployment, deployment_specs
    ensure_work_pool("zc-pool")
    spec = next(s for s in deployment_specs(get_config(), from_year=2026) if s.name == "issue")
    build_deployment(spec, work_pool="zc-pool").apply()
    env = {"ZHICHENG_HOME": str(home), "ZHICHENG_DATABASE_URL": url, "ZHICHENG_DATABASE_SCHEMA": ""}
    for n in (1, 2):
        prefect_server.start_worker("zc-pool", f"w{n}", env)
    as_of = "2026-12-28T20:00:00+08:00"
    runs = [run_deployment("issue/issue", parameters={"as_of": as_of}, timeout=0) for _ in range(2)]
    with get_client(sync_client=True) as client:
        def finished():
            states = [client.read_flow_run(r.id).state for r in runs]
            failed = [s for s in states if s.is_failed() or s.is_crashed()]
            assert not failed, f"{failed}; logs in {prefect_server.logs}"
            return all(s.is_completed() for s in states)
        wait_until(finished, timeout=300, what="both issue runs completing")
    return runs


def _ui_shows(server, flow_run_id, tmp_path: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("no chromium on this machine: the browser check of the Prefect UI needs it "
                    "(.ci/run installs Debian's chromium)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(f"{server.url}/runs/flow-run/{flow_run_id}", wait_until="networkidle", timeout=60_000)
        page.get_by_text("Completed").first.wait_for(timeout=60_000)
        page.get_by_text("Artifacts").first.click()
        page.get_by_text("issue").first.wait_for(timeout=30_000)
        page.screenshot(path=str(server.logs / "flow-run.png"), full_page=True)
        browser.close()
