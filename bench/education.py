"""Benchmark of the 学信 education sync against the 学信 stand-in.

1. Rate limited: the stand-in allows RATE requests a second per app id and the
   connector is configured with the same rate; N distinct lookups through the sync's
   fetch step. Figures: achieved rate as a share of the allowed one (target >= 0.95)
   and the 429s the stand-in answered (target 0).
2. Unlimited: a SQLite database of APPLICATIONS applications, the whole sync
   (plan, fetch, judge, store) chunk by chunk; figure: education entries checked a second.
"""
from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
from pathlib import Path
from typing import Any

RATE = 40.0          # requests a second allowed by the stand-in
LOOKUPS = 240        # six seconds' worth at RATE
APPLICATIONS = 1000
APP_ID, SECRET = "bench-app", "bench-secret-0123456789"


def _settings(url: str, home: Path, db_url: str | None = None) -> Any:
    from zhicheng.settings import Settings
    return Settings(home=home, database_url=db_url, chsi_url=url, chsi_app_id=APP_ID, chsi_app_secret=SECRET)


def rate_limited(work: Path) -> dict[str, Any]:
    from zhicheng.config import get_config
    from zhicheng.education import fetch as fetching
    from zhicheng.standins.chsi import Chsi
    chsi = Chsi(state_path=work / "chsi-rate.sqlite", secrets={APP_ID: SECRET}, rate_limit=RATE).start()
    try:
        os.environ["ZHICHENG_CHSI_RATE_PER_SECOND"] = str(RATE)
        keys = [("records", f"{i:018d}|bench") for i in range(LOOKUPS)]
        with fetching.gateway_from_settings(_settings(chsi.url, work), get_config()) as gateway:
            started = time.perf_counter()
            answers, outage = fetching.fetch(gateway, keys=keys, concurrency=4)
            elapsed = time.perf_counter() - started
        stats = chsi.stats.get("records", {})
        # The client takes no burst (RateLimiter burst=1): n requests are n-1 intervals
        # of 1/RATE apart, so the achieved rate is intervals over the time they took.
        achieved = (len(answers) - 1) / elapsed if elapsed else 0.0
        return {"allowed_per_second": RATE, "lookups": LOOKUPS, "answered": len(answers), "outage": outage,
                "seconds": round(elapsed, 2), "achieved_per_second": round(achieved, 2),
                "share_of_allowed": round(achieved / RATE, 3), "responses_429": stats.get("429", 0)}
    finally:
        os.environ.pop("ZHICHENG_CHSI_RATE_PER_SECOND", None)
        chsi.stop()


def unlimited(work: Path) -> dict[str, Any]:
    from zhicheng.bootstrap import build_app
    from zhicheng.clock import FixedClock
    from zhicheng.db.engine import unit_of_work
    from zhicheng.db.models import Application, ApplicationRevision
    from zhicheng.domain.identity import make_id_number
    from zhicheng.education import service as education
    from zhicheng.education import fetch as fetching
    from zhicheng.schema import Base
    from zhicheng.standins.chsi import Chsi
    chsi = Chsi(state_path=work / "chsi-free.sqlite", secrets={APP_ID: SECRET}).start()
    # "limit off" on both sides: the stand-in has none, and 0 switches off the client's
    # (config/connectors.yaml gives 学信 20/s, which would otherwise be what we measure)
    os.environ["ZHICHENG_CHSI_RATE_PER_SECOND"] = "0"
    settings = _settings(chsi.url, work / "home", f"sqlite:///{work / 'bench.db'}")
    app = build_app(settings=settings, clock=FixedClock(dt.datetime(2026, 6, 1, 9, 0)))
    Base.metadata.create_all(app.engine)
    record = {"record_id": "R", "kind": "学历", "level": "本科", "school": "南京大学", "major": "电气工程",
              "study_form": "普通全日制", "enrollment_date": "2010-09-01", "graduation_date": "2014-06-30",
              "certificate_no": "102841201405001234"}
    entry = {k: record[k] for k in ("kind", "level", "school", "major", "graduation_date", "certificate_no")}
    with unit_of_work(app.sessions) as s:
        for n in range(APPLICATIONS):
            idn = make_id_number("320102", dt.date(1980, 1, 1) + dt.timedelta(days=n), n, "女")
            chsi.add_person(idn, f"人{n}", [record])
            a = Application(submission_id=f"B{n:06d}", current_revision=1, status="validated")
            s.add(a)
            s.flush()
            s.add(ApplicationRevision(application_id=a.id, revision=1, payload_sha256="0" * 64, valid=True,
                                      received_at=app.clock.now(), payload={
                                          "applicant": {"id_number": idn, "name": f"人{n}"},
                                          "education": [entry, {**entry, "major": "土木工程"}]}))
    try:
        size = app.config.policy.chunks.education
        with app.sessions() as s:
            ids = education.pending(session=s)
        started = time.perf_counter()
        with fetching.gateway_from_settings(settings, app.config) as gateway:
            for i in range(0, len(ids), size):
                education.sync_chunk(sessions=app.sessions, gateway=gateway, application_ids=ids[i:i + size],
                                     config=app.config, now=app.clock.now(), files_root=settings.home)
        elapsed = time.perf_counter() - started
        return {"applications": len(ids), "entries": 2 * len(ids), "seconds": round(elapsed, 2),
                "entries_per_second": round(2 * len(ids) / elapsed, 1)}
    finally:
        os.environ.pop("ZHICHENG_CHSI_RATE_PER_SECOND", None)
        app.engine.dispose()
        chsi.stop()


def main() -> dict[str, Any]:
    from zhicheng.education.fetch import ChsiNotConfigured
    with tempfile.TemporaryDirectory(prefix="zhicheng-bench-education-") as tmp:
        work = Path(tmp)
        try:
            return {"rate_limited": rate_limited(work), "unlimited": unlimited(work)}
        except ChsiNotConfigured as exc:  # the 学信 connector has not landed: nothing to measure
            return {"skipped": str(exc)}
