"""The demo's script: a synthetic batch year walked through the whole back office.

Stand-in hall, 学信 and province on loopback serve a generated year; the flows run
as they would in production, on a simulated clock (each step's `as_of`); the people
(staff, experts, applicants) act through the files and resubmissions of demo_staff.
"""
from __future__ import annotations

import datetime as dt
import os
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from zhicheng.bootstrap import App, build_app
from zhicheng.clock import FixedClock, local_date
from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import Application, Certificate
from zhicheng.services import demo_staff as staff
from zhicheng.services.setup import upgrade_database, working_calendar

YEAR = 2026
MOMENTS = {  # the simulated clock of the demo's year (Asia/Shanghai)
    "intake": "2026-06-15T09:00:00+08:00", "resubmit": "2026-06-22T09:00:00+08:00",
    "review": "2026-07-06T09:00:00+08:00", "publicity_before": "2026-09-01T09:00:00+08:00",
    "objections": "2026-09-02T10:00:00+08:00", "close_before": "2026-09-10T01:00:00+08:00",
    "vote": "2026-09-15T09:00:00+08:00", "publicity_after": "2026-09-16T09:00:00+08:00",
    "year_end": "2026-12-28T20:00:00+08:00",
}


@dataclass
class Demo:
    app: App
    workspace: Path
    standins: Any
    rnd: random.Random
    steps: list[list[str]] = field(default_factory=list)

    def at(self, moment: str) -> str:
        self.app.clock = FixedClock(dt.datetime.fromisoformat(MOMENTS[moment]))
        return MOMENTS[moment]

    def step(self, name: str, result: str) -> None:
        self.steps.append([name, result])

    @property
    def files(self) -> Path:
        return self.app.workspace("demo-files")


def run_demo(*, applications: int, seed: int, workspace: Path,
             progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    from zhicheng.standins.generator import generate
    from zhicheng.standins.launch import start_standins
    app = build_app()
    db = upgrade_database(app)
    progress("generating the synthetic year")
    manifest = generate(workspace / "year", applications=applications, seed=seed, batch_year=YEAR)
    standins = start_standins(year_dir=workspace / "year", state_dir=workspace / "standins", seed=seed)
    os.environ.update(standins.env())
    demo = Demo(app, workspace, standins, random.Random(seed))
    demo.step("database", f"{db['database']} at revision {db['revision']}")
    demo.step("synthetic year", f"{manifest['counts']['submissions']} submissions, "
              f"{manifest['counts']['materials']} files, {manifest['counts']['faults']} planted faults")
    try:
        for name, fn in SCRIPT:
            progress(name)
            fn(demo)
    finally:
        standins.stop()
    return {"workspace": str(workspace), "applications": applications, "seed": seed, "steps": demo.steps,
            "statuses": statuses(app), "where": where(app)}


def take_in(demo: Demo) -> None:
    from zhicheng.flows.education import education_sync
    from zhicheng.flows.intake import intake
    from zhicheng.flows.validation import validate
    as_of = demo.at("intake")
    got = intake(as_of=as_of)
    demo.step("intake", f"{got['received']} received: {got['new']} stored, {got['invalid']} invalid "
              f"(returned), {got['files']} files")
    edu = education_sync(as_of=as_of)
    demo.step("学信 education sync", ", ".join(f"{k} {v}" for k, v in sorted(edu["outcomes"].items())))
    val = validate(as_of=as_of)
    demo.step("validation", _counts(val))
    demo.step("returns to the hall", _deliver(demo, as_of))


def resubmit(demo: Demo) -> None:
    from zhicheng.flows.intake import intake
    from zhicheng.flows.validation import validate
    as_of = demo.at("resubmit")
    with demo.app.sessions() as s:
        fixed = staff.resubmissions(s, limit=10)
    for sub in fixed:
        demo.standins.hall.add_submission(sub)
    got = intake(as_of=as_of)
    val = validate(as_of=as_of)
    demo.step("resubmissions", f"{len(fixed)} applicants corrected their forms; intake took in "
              f"{got['resubmission']}; validation: {_counts(val)}")


def review(demo: Demo) -> None:
    """Each office decides what stands at its stage, round after round: approve, except
    one return (the applicant corrects and resubmits; it re-enters where it was returned)
    and one rejection."""
    from zhicheng.flows.intake import intake
    from zhicheng.flows.validation import validate
    start = dt.datetime.fromisoformat(demo.at("review"))
    actions: Counter[str] = Counter()
    returned = _decide_rounds(demo, start, actions, plan={1: "reject", 2: "return"})
    if returned:
        with demo.app.sessions() as s:
            again = [{**_payload(s, a), "revision": a.current_revision + 1}
                     for a in (s.get(Application, i) for i in returned)]
        for sub in again:
            demo.standins.hall.add_submission(sub)
        later = (start + dt.timedelta(days=30)).isoformat()
        intake(as_of=later)
        validate(as_of=later)
        _decide_rounds(demo, start + dt.timedelta(days=31), actions, plan={})
    demo.step("review decisions", ", ".join(f"{k} {v}" for k, v in sorted(actions.items()))
              + (f"; {len(returned)} returned application resubmitted and re-entered" if returned else ""))


def _decide_rounds(demo: Demo, start: dt.datetime, actions: Counter, plan: dict[int, str]) -> list[int]:
    """Decide until nothing waits at a review stage; `plan`: round -> the one odd action."""
    from zhicheng.services import review as service
    returned = []
    for rnd in range(60):
        now = start + dt.timedelta(days=rnd)
        with unit_of_work(demo.app.sessions) as s:
            waiting = [a for a in s.scalars(select(Application).where(Application.status == "in_review")
                                            .order_by(Application.id))
                       if demo.app.config.chains.kinds.get(a.stage or "") == "review"]
            for i, a in enumerate(waiting):
                action = plan.get(rnd, "approve") if i == 0 else "approve"
                service.decide(s, application_id=a.id, stage=a.stage, action=action, actor=f"staff{rnd % 3 + 1}",
                               office=a.stage, reason=REASONS[action], decided_at=now, now=now,
                               config=demo.app.config, source_file="demo", source_row=None)
                actions[action] += 1
                if action == "return":
                    returned.append(a.id)
        if not waiting:
            break
    return returned


def _payload(session, app: Application) -> dict[str, Any]:
    from zhicheng.db.models import ApplicationRevision
    return dict(session.scalars(select(ApplicationRevision.payload).where(
        ApplicationRevision.application_id == app.id,
        ApplicationRevision.revision == app.current_revision)).one())


REASONS = {"approve": "材料齐全，同意推荐", "return": "业绩材料不清晰，请补充完整后重新提交",
           "reject": "不符合申报条件（任职年限不足）"}


def publicity_before(demo: Demo) -> None:
    from zhicheng.flows.publicity import publicity_close_due
    windows = _open_windows(demo, ("评前", "初定"), "publicity_before")
    demo.at("objections")
    objections = _object(demo, windows)
    closed = publicity_close_due(as_of=demo.at("close_before"))
    demo.step("评前/初定 publicity", f"{len(windows)} windows, {objections}; at closing {closed['passed']} "
              f"moved on, {closed['removed']} removed, {closed['held']} held")


def vote(demo: Demo) -> None:
    from zhicheng.services import votes
    now = dt.datetime.fromisoformat(demo.at("vote"))
    cfg = demo.app.config
    with demo.app.sessions() as s:
        agenda: dict[str, list[str]] = {}
        for a in s.scalars(select(Application).where(Application.status == "in_review",
                                                     Application.stage == "专家评审").order_by(Application.id)):
            agenda.setdefault(a.committee_id, []).append(a.submission_id)
    passed = failed = 0
    roster = staff.write_csv(demo.files / "roster.csv", votes.ROSTER_COLUMNS + ("统一社会信用代码", "状态"),
                             staff.roster_rows(cfg, agenda, demo.rnd))
    with unit_of_work(demo.app.sessions) as s:
        votes.import_roster(s, path=roster, config=cfg)
    for i, (cid, items) in enumerate(sorted(agenda.items()), 1):
        code, members = f"{cid}-{YEAR}-01", cfg.committees[cid].members
        absent = members // 5
        book = staff.write_xlsx(demo.files / f"session-{code}.xlsx",
                                staff.session_sheets(code, cid, local_date(now), members, items, absent))
        present = [f"M{k:02d}" for k in range(1, members - absent + 1)]
        ballots = staff.write_csv(demo.files / f"ballots-{code}.csv", votes.BALLOT_COLUMNS,
                                  staff.ballot_rows(code, items, present, {items[-1]} if len(items) > 2 else set(),
                                                    demo.rnd))
        with unit_of_work(demo.app.sessions) as s:
            votes.import_session(s, path=book, config=cfg)
            votes.import_ballots(s, path=ballots)
            result = votes.apply_tally(s, session_code=code, config=cfg, now=now)
        outcomes = Counter(t.get("recorded_outcome") for t in result["applications"])
        passed, failed = passed + outcomes.get("pass", 0), failed + outcomes.get("fail", 0)
    demo.step("expert votes", f"{len(agenda)} sessions: {passed} passed, {failed} failed")


def publicity_after(demo: Demo) -> None:
    windows = _open_windows(demo, ("评后",), "publicity_after")
    demo.step("评后 publicity", f"{len(windows)} windows opened (closed by the year-end run)")


def year_end(demo: Demo) -> None:
    from zhicheng.flows.year_end import year_end as flow
    got = flow(batch_year=YEAR, as_of=demo.at("year_end"))
    for row in got.get("steps", []):
        demo.step(f"year-end: {row['step']}", str(row.get("summary", row.get("state", "")))[:160])


def _open_windows(demo: Demo, kinds: tuple[str, ...], moment: str) -> list[dict[str, Any]]:
    from zhicheng.services import publicity
    now = dt.datetime.fromisoformat(demo.at(moment))
    calendar = working_calendar(demo.app.config.directory)
    opened = []
    with unit_of_work(demo.app.sessions) as s:
        committees = [None] if kinds == ("初定",) else sorted(demo.app.config.committees)
        for kind in kinds:
            for cid in ([None] if kind == "初定" else committees):
                got = publicity.open_window(s, kind=kind, committee_id=cid, config=demo.app.config,
                                            calendar=calendar, now=now, out_dir=demo.app.workspace("publicity"))
                if got.get("window"):
                    opened.append(got)
    return opened


def _object(demo: Demo, windows: list[dict[str, Any]]) -> str:
    """One objection upheld (the application leaves), one dismissed (it goes on)."""
    from zhicheng.services import publicity
    rows = []
    with demo.app.sessions() as s:
        for w, verdict, why in zip(windows, ("成立", "不成立"), ("经核查，业绩证明材料与实际不符", "经核查，反映情况不属实")):
            sid = _first_submission(s, w["window"])
            if sid:
                rows.append([w["window"], sid, "2026-09-02 10:00", "反映其业绩材料存在问题", "", verdict,
                             "2026-09-04 15:00", why])
    if not rows:
        return "no objections"
    path = staff.write_csv(demo.files / "objections.csv", publicity.OBJECTION_COLUMNS + publicity.OBJECTION_OPTIONAL,
                           rows)
    with unit_of_work(demo.app.sessions) as s:
        publicity.import_objections(s, path=path, config=demo.app.config, now=demo.app.clock.now())
    return f"{len(rows)} objections (1 upheld, {len(rows) - 1} dismissed)"


def _first_submission(session, window_id: int) -> str | None:
    from zhicheng.db.models import PublicityEntry
    return session.scalars(select(Application.submission_id).join(
        PublicityEntry, PublicityEntry.application_id == Application.id)
        .where(PublicityEntry.window_id == window_id).order_by(Application.id).limit(1)).first()


def _deliver(demo: Demo, as_of: str) -> str:
    from zhicheng.flows.delivery import push
    got = push(as_of=as_of)
    return f"{demo.standins.hall.sms_sent} SMS sent by the hall; push: {_counts(got)}"


def _counts(summary: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in summary.items() if isinstance(v, int) and not isinstance(v, bool))


def statuses(app: App) -> dict[str, int]:
    with app.sessions() as s:
        return dict(s.execute(select(Application.status, func.count()).group_by(Application.status)).all())


def where(app: App) -> dict[str, str]:
    home = app.settings.home.resolve()
    with app.sessions() as s:
        certs = s.scalar(select(func.count()).select_from(Certificate))
    return {"certificates": f"{home / 'certificates'} ({certs} issued)", "publicity lists": str(home / "publicity"),
            "reports": str(home / "reports"), "vote reports": str(home / "votes"),
            "data docs": str(home / "quality"), "staff files": str(home / "demo-files"),
            "database": app.settings.resolved_database_url}


SCRIPT: list[tuple[str, Callable[[Demo], None]]] = [
    ("intake, 学信, validation", take_in), ("resubmissions", resubmit), ("review", review),
    ("评前 publicity", publicity_before), ("votes", vote), ("评后 publicity", publicity_after),
    ("year-end", year_end),
]
