"""The demo's script: a synthetic batch year walked through the whole back office.

Stand-in hall, 学信 and province on loopback, in a process of their own, serve a
generated year; the flows run as they would in production, on a simulated clock (each
step's `as_of`); the people (staff, experts, applicants) act through the files and
resubmissions of zhicheng.demo.staff.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import random
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from zhicheng.bootstrap import App, app_at
from zhicheng.clock import FixedClock, local_date
from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import Application
from zhicheng.demo import peak_memory, registry, report
from zhicheng.demo import staff
from zhicheng.demo.flow_runs import FlowRuns, flow_runs
from zhicheng.domain.application_status import ApplicationStatus
from zhicheng.files.spreadsheets import write_csv, write_workbook
from zhicheng.workspace import upgrade_database, working_calendar
from zhicheng.year_end.service import STEP_NAMES

YEAR = 2026
# The simulated clock of the demo's year (Asia/Shanghai), on working days of the
# official calendar. Everything happens after the declaration period (policy.yaml:
# 2026-05-06 to 09-30) and the National Day holiday, so no decision predates a
# submission. The 评前 window opened on Mon 11-02 ends with Fri 11-06 (5 working
# days) and is closed on 11-10; the 评后 window of Tue 11-17 ends with Mon 11-23, before
# the year-end run. The year-end run is on 12-17 so that the filing and issue stages it
# enters get their deadline (10 working days: 12-31) inside the calendar's known years.
MOMENTS = {
    "intake": "2026-10-08T09:00:00+08:00", "resubmit": "2026-10-15T09:00:00+08:00",
    "review": "2026-10-20T10:00:00+08:00", "publicity_before": "2026-11-02T09:00:00+08:00",
    "objections_received": "2026-11-03T10:00:00+08:00", "objections": "2026-11-04T16:00:00+08:00",
    "close_before": "2026-11-10T01:00:00+08:00", "vote": "2026-11-16T09:00:00+08:00",
    "publicity_after": "2026-11-17T09:00:00+08:00", "year_end": "2026-12-17T20:00:00+08:00",
}
REVIEW_HOURS = (10, 15)   # the offices send their decisions twice a working day


@dataclass
class Demo:
    app: App
    workspace: Path
    standins: Any
    rnd: random.Random
    flows: FlowRuns = field(default_factory=FlowRuns)
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
             progress: Callable[[str], None] = lambda _: None,
             meters: Callable[[], dict[str, float]] | None = None, runner: str | None = None,
             year: Path | None = None,
             stage_done: Callable[[list[dict[str, Any]]], None] = lambda _: None) -> dict[str, Any]:
    """The script on a generated year, its flows run by `runner` (zhicheng.demo.flow_runs);
    `meters` adds counters (cumulative) whose change over each stage goes into its
    timings row (bench/cycle's CPU and waiting account). `year`: a year directory
    generated beforehand (`zhicheng generate` with the same applications and seed), so
    that this process's memory is the back office's alone. `stage_done` gets the timings
    rows so far after each stage (a run that fails late keeps what it measured)."""
    from zhicheng.standins.generator import generate
    from zhicheng.standins.remote import start_remote_standins
    timings = Timings(meters)
    app = app_at()   # the process's App (its engine the flows' too); `Demo.at` sets its clock
    with timings("database"):
        db = upgrade_database(app)
    if year is None:
        progress("生成模拟年度")
        year = workspace / "year"
        with timings("generate"):
            manifest = generate(year, applications=applications, seed=seed, batch_year=YEAR)
    else:
        manifest = json.loads((year / "manifest.json").read_text(encoding="utf-8"))
    standins = start_remote_standins(year_dir=year, state_dir=workspace / "standins", seed=seed)
    os.environ.update(standins.env())
    timings.standins = standins
    demo = Demo(app, workspace, standins, random.Random(seed), flow_runs(runner))
    demo.step("数据库", f"{db['database']}，迁移版本 {db['revision']}")
    demo.step("模拟年度", f"办件 {manifest['counts']['submissions']} 件，材料 {manifest['counts']['materials']} 个，"
              f"预置问题 {manifest['counts']['faults']} 处")
    try:
        demo.flows.start(standins.env(), workspace / "runs", year=YEAR)
        for name, fn in SCRIPT:
            progress(STEP_LABELS[name])
            with timings(name):
                fn(demo)
            stage_done(timings.rows)
        served = requests_served(standins)
        with app.sessions() as s:
            held = report.counts(session=s)
            registered = registry.check(registry.issued(session=s), standins.province.admin("GET", "applied"),
                                        registry.counters(session=s))
    finally:
        demo.flows.stop()
        standins.stop()
    return {"workspace": str(workspace), "applications": applications, "seed": seed, "runner": demo.flows.name,
            "steps": demo.steps, "counts": held, "where": where(app, held), "timings": timings.rows,
            "requests": served, "registry": registered}


def requests_served(standins: Any) -> dict[str, int]:
    """Requests each stand-in answered, admin calls aside (what a real system would have
    served: the bench turns 学信's into the time its granted rate allows)."""
    return {name: sum(n for endpoint, by_status in server.stats.items() if endpoint != "admin"
                      for n in by_status.values())
            for name, server in (("hall", standins.hall), ("chsi", standins.chsi), ("province", standins.province))}


class Timings:
    """Of each stage: wall seconds, CPU seconds of this process and of its children that
    have exited (validation workers, inspectors: RUSAGE_CHILDREN counts a child once it
    is reaped, so a child living on, like the temporary Prefect server, is not in it),
    the requests each stand-in answered, the change of any extra `meters`, the stage's
    own peak resident memory (zhicheng.demo.peak_memory) and the process's peak so far
    (cheap, unlike tracemalloc)."""

    def __init__(self, meters: Callable[[], dict[str, float]] | None = None) -> None:
        self.rows: list[dict[str, Any]] = []
        self.meters = meters
        self.standins: Any = None
        self.process_peak_mb = 0.0

    def _read(self) -> dict[str, float]:
        own, reaped = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        out = {"cpu_seconds": own.ru_utime + own.ru_stime,
               "exited_children_cpu_seconds": reaped.ru_utime + reaped.ru_stime}
        if self.standins is not None:
            out.update({f"requests_{name}": n for name, n in requests_served(self.standins).items()})
        return out | (self.meters() if self.meters else {})

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        self.process_peak_mb = max(self.process_peak_mb, peak_memory.peak_mb())   # before this stage
        own_peak = peak_memory.reset()
        before, started = self._read(), time.perf_counter()
        yield
        seconds = time.perf_counter() - started
        after, stage_peak = self._read(), peak_memory.peak_mb()
        self.process_peak_mb = max(self.process_peak_mb, stage_peak, peak_memory.maxrss_mb(resource.RUSAGE_SELF))
        self.rows.append({"stage": stage, "seconds": round(seconds, 2),
                          **{k: round(v - before.get(k, 0), 3) for k, v in after.items()},
                          "stage_peak_rss_mb": stage_peak if own_peak else None,
                          # what the stage leaves held, and how much of it is Python's
                          # own objects (blocks of its allocator) rather than native memory
                          "rss_after_mb": peak_memory.current_mb(),
                          "python_blocks": sys.getallocatedblocks(),
                          "malloc_mb": peak_memory.malloc_mb(),
                          "peak_rss_mb": self.process_peak_mb,
                          "children_peak_rss_mb": peak_memory.maxrss_mb(resource.RUSAGE_CHILDREN)})


def take_in(demo: Demo) -> None:
    """Intake of the year from the hall (the first flow also starts the temporary Prefect server)."""
    from zhicheng.flows.intake import intake
    demo.step("收件", report.intake_line(_run(demo, intake, as_of=demo.at("intake"))))


def check_education(demo: Demo) -> None:
    from zhicheng.flows.education import education_sync
    demo.step("学信学历核验", report.education_line(_run(demo, education_sync, as_of=demo.at("intake"))))


def check_and_return(demo: Demo) -> None:
    from zhicheng.flows.validation import validate
    as_of = demo.at("intake")
    demo.step("材料审核", report.validation_line(_run(demo, validate, as_of=as_of)))
    demo.step("退回通知", _deliver(demo, as_of))


def resubmit(demo: Demo) -> None:
    from zhicheng.flows.intake import intake
    from zhicheng.flows.validation import validate
    as_of = demo.at("resubmit")
    with demo.app.sessions() as s:
        fixed = staff.resubmissions(session=s, limit=10)
    for sub in fixed:
        demo.standins.hall.add_submission(sub)
    got = _run(demo, intake, as_of=as_of)
    val = _run(demo, validate, as_of=as_of)
    if not fixed:
        demo.step("重新提交", "被退回的办件都需补传材料，无法只改表单")
        return
    demo.step("重新提交", f"{len(fixed)} 位申报人修改了表单，收件 {got.get('resubmission', 0)} 件；"
              f"{report.validation_line(val)}")


def review(demo: Demo) -> None:
    """Each office decides what stands at its stage and sends a spreadsheet, imported
    as `zhicheng review import` does (docs/review.md), round after round. In the first
    round one application is rejected and one returned; its applicant corrects it by
    the next morning and it re-enters at the stage that returned it."""
    calendar = working_calendar(demo.app.config.directory)
    actions: Counter[str] = Counter()
    files: list[Path] = []
    returned: list[int] = []
    back = 0
    pending_return = False
    for n, when in enumerate(_review_rounds(dt.datetime.fromisoformat(demo.at("review")), calendar)):
        if pending_return and when.hour == REVIEW_HOURS[0]:
            back = _resubmit(demo, returned, when - dt.timedelta(hours=1))
            pending_return = False
        got = _review_round(demo, when, odd=("reject", "return") if n == 0 else (), fmt="xlsx" if n % 2 else "csv")
        if got is None:
            if not pending_return:
                break
            continue
        paths, by_result, sent_back = got
        files += paths
        actions.update(by_result)
        returned += sent_back
        pending_return = pending_return or bool(sent_back)
        if when >= dt.datetime.fromisoformat(MOMENTS["publicity_before"]):
            raise RuntimeError("the demo's review runs into its 评前 publicity: move MOMENTS['review'] earlier")
    kinds = Counter(p.suffix.lstrip(".").upper() for p in files)
    demo.step("审核决定", f"导入各单位审核表 {len(files)} 份（{_plain(kinds)}）："
              f"通过 {actions['approve']} 件，退回修改 {actions['return']} 件，不通过 {actions['reject']} 件"
              + (f"；退回的办件中 {back} 件已修改并回到退回环节" if returned else ""))
    # `push` runs every 10 minutes in production: the notices of passed and rejected
    # applications leave with the review, not with the year-end run
    demo.step("审核结果通知", _deliver(demo, when.isoformat()))


def _review_rounds(start: dt.datetime, calendar) -> Iterator[dt.datetime]:
    day = start.date()
    while True:
        if calendar.is_working_day(day):
            for hour in REVIEW_HOURS:
                when = dt.datetime.combine(day, dt.time(hour), start.tzinfo)
                if when >= start:
                    yield when
        day += dt.timedelta(days=1)


def _review_round(demo: Demo, when: dt.datetime, *, odd: tuple[str, ...],
                  fmt: str) -> tuple[list[Path], Counter[str], list[int]] | None:
    """Every application waiting at a review stage decided, in office sheets of at most
    staff.SHEET_ROWS rows each imported on its own: approved, except the `odd` actions
    for the first ones. None when nothing waits."""
    from zhicheng.review.imports import import_decisions
    kinds = demo.app.config.chains.kinds
    with demo.app.sessions() as s:
        # the columns the office's sheet needs, not the applications' objects
        waiting = [a for a in s.execute(select(Application.id, Application.submission_id, Application.stage,
                                               Application.employer_name)
                                        .where(Application.status == ApplicationStatus.IN_REVIEW)
                                        .order_by(Application.id)) if kinds.get(a.stage or "") == "review"]
        if not waiting:
            return None
        actions = [odd[i] if i < len(odd) else "approve" for i in range(len(waiting))]
        rows = staff.decision_rows(session=s, waiting=waiting, actions=actions, decided_at=when, rnd=demo.rnd)
        sent_back = [a.id for a, action in zip(waiting, actions, strict=True) if action == "return"]
    parts = staff.sheet_files(rows, demo.app.config.policy.imports.max_rows)
    paths, by_result = [], Counter[str]()
    for n, part in enumerate(parts, 1):
        path = demo.files / _part_name(f"review-{when:%Y%m%d-%H%M}", n, len(parts), fmt)
        if fmt == "xlsx":
            write_workbook(path, {"审核结果": (staff.REVIEW_HEADER, part)})
        else:
            write_csv(path, staff.REVIEW_HEADER, part)
        with unit_of_work(demo.app.sessions) as s:   # imported half an hour after the office decided
            got = import_decisions(session=s, path=path, config=demo.app.config,
                                   now=when + dt.timedelta(minutes=30))
        paths.append(path)
        by_result.update(got["by_result"])
    return paths, by_result, sent_back


def _part_name(stem: str, n: int, parts: int, suffix: str) -> str:
    """The file name of part `n` of `parts` of what staff send: numbered only when split."""
    return f"{stem}-{n}.{suffix}" if parts > 1 else f"{stem}.{suffix}"


def _resubmit(demo: Demo, returned: list[int], when: dt.datetime) -> int:
    """The returned applicants correct their applications: the hall delivers the next
    revision. How many are back in review."""
    from zhicheng.flows.intake import intake
    from zhicheng.flows.validation import validate
    with demo.app.sessions() as s:
        again = [{**_payload(session=s, app=a), "revision": a.current_revision + 1}
                 for a in (s.get_one(Application, i) for i in returned)]
    for sub in again:
        demo.standins.hall.add_submission(sub)
    _run(demo, intake, as_of=when.isoformat())
    _run(demo, validate, as_of=when.isoformat())
    with demo.app.sessions() as s:
        return len(s.scalars(select(Application.id).where(Application.id.in_(returned),
                                                          Application.status == ApplicationStatus.IN_REVIEW)).all())


def _payload(*, session, app: Application) -> dict[str, Any]:
    from zhicheng.db.models import ApplicationRevision
    return dict(session.scalars(select(ApplicationRevision.payload).where(
        ApplicationRevision.application_id == app.id,
        ApplicationRevision.revision == app.current_revision)).one())


def publicity_before(demo: Demo) -> None:
    from zhicheng.flows.publicity import publicity_close_due
    windows = _open_windows(demo, ("评前", "初定"), "publicity_before")
    sent = _deliver(demo, MOMENTS["publicity_before"])   # the applicants hear of it as the window opens
    demo.at("objections")
    objections = _object(demo, windows)
    closed = _run(demo, publicity_close_due, as_of=demo.at("close_before"))
    demo.step("评前/初定公示", f"开启公示 {len(windows)} 个，{objections}；" + report.close_line(closed))
    demo.step("评前/初定公示通知", sent)


def vote(demo: Demo) -> None:
    from zhicheng.votes import service as votes
    now = dt.datetime.fromisoformat(demo.at("vote"))
    cfg = demo.app.config
    with demo.app.sessions() as s:   # two columns, not the applications' ORM objects: the year's size
        agenda: dict[str, list[str]] = {}
        for committee_id, submission_id in s.execute(select(Application.committee_id, Application.submission_id).where(
                Application.status == ApplicationStatus.IN_REVIEW, Application.stage == "专家评审")
                .order_by(Application.id)):
            assert committee_id is not None, f"{submission_id} is at 专家评审 without a committee"
            agenda.setdefault(committee_id, []).append(submission_id)
    passed = failed = 0
    roster = write_csv(demo.files / "roster.csv", votes.ROSTER_COLUMNS + ("统一社会信用代码", "状态"),
                             staff.roster_rows(cfg, agenda, demo.rnd))
    with unit_of_work(demo.app.sessions) as s:
        votes.import_roster(session=s, path=roster, config=cfg)
    sessions = 0
    for cid, agenda_items in sorted(agenda.items()):
        for code, items, failing in staff.sittings(cid, YEAR, agenda_items):
            outcomes = _hold_session(demo, code, cid, items, failing, now)
            passed, failed = passed + outcomes.get("pass", 0), failed + outcomes.get("fail", 0)
            sessions += 1
    demo.step("专家评审投票", f"评审会议 {sessions} 场：通过 {passed} 件，未通过 {failed} 件")


def _hold_session(demo: Demo, code: str, cid: str, items: list[str], failing: set[str],
                  now: dt.datetime) -> Counter[str | None]:
    """One sitting of a committee: its workbook, its ballots in clerks' files, its tally."""
    from zhicheng.votes import service as votes
    cfg = demo.app.config
    members = cfg.committees[cid].members
    absent = members // 5
    book = write_workbook(demo.files / f"session-{code}.xlsx",
                          staff.session_sheets(code, cid, local_date(now), members, items, absent))
    present = [f"M{k:02d}" for k in range(1, members - absent + 1)]
    parts = staff.sheet_files(staff.ballot_rows(code, items, present, failing, demo.rnd),
                              cfg.policy.imports.max_rows)
    ballots = [write_csv(demo.files / _part_name(f"ballots-{code}", n, len(parts), "csv"),
                         votes.BALLOT_COLUMNS, part) for n, part in enumerate(parts, 1)]
    with unit_of_work(demo.app.sessions) as s:
        votes.import_session(session=s, path=book, config=cfg)
        for path in ballots:
            votes.import_ballots(session=s, path=path, config=cfg)
        result = votes.apply_tally(session=s, session_code=code, config=cfg, now=now)
    return Counter(t.get("recorded_outcome") for t in result["applications"])


def publicity_after(demo: Demo) -> None:
    windows = _open_windows(demo, ("评后",), "publicity_after")
    demo.step("评后公示", f"开启公示 {len(windows)} 个（由年终发证关闭）")
    demo.step("评后公示通知", _deliver(demo, MOMENTS["publicity_after"]))


def year_end(demo: Demo) -> None:
    from zhicheng.flows.year_end import year_end as flow
    got = _run(demo, flow, batch_year=YEAR, as_of=demo.at("year_end"))
    for row in got["steps"]:   # the same lines the run leaves in the Prefect UI
        demo.step(f"年终发证：{STEP_NAMES[row['step']]}", row["headline"])

def _open_windows(demo: Demo, kinds: tuple[str, ...], moment: str) -> list[dict[str, Any]]:
    from zhicheng.publicity import service as publicity
    now = dt.datetime.fromisoformat(demo.at(moment))
    calendar = working_calendar(demo.app.config.directory)
    opened = []
    for kind in kinds:
        for cid in ([None] if kind == "初定" else sorted(demo.app.config.committees)):
            # a window a transaction, as staff open them (`publicity open`, one a committee)
            with unit_of_work(demo.app.sessions) as s:
                got = publicity.open_window(session=s, kind=kind, committee_id=cid, config=demo.app.config,
                                            calendar=calendar, now=now, out_dir=demo.app.workspace("publicity"))
            if got.get("window"):
                opened.append(got)
    return opened


def _object(demo: Demo, windows: list[dict[str, Any]]) -> str:
    """One objection upheld (the application leaves), one dismissed (it goes on)."""
    from zhicheng.publicity import service as publicity
    rows = []
    received = dt.datetime.fromisoformat(MOMENTS["objections_received"])
    settled = received + dt.timedelta(days=1, hours=5)
    with demo.app.sessions() as s:
        outcomes = (("成立", "经核查，业绩证明材料与实际不符"), ("不成立", "经核查，反映情况不属实"))
        for w, (verdict, why) in zip(windows, outcomes, strict=False):   # the first two windows
            sid = _first_submission(session=s, window_id=w["window"])
            if sid:
                rows.append([w["window"], sid, f"{received:%Y-%m-%d %H:%M}", "反映其业绩材料存在问题", "", verdict,
                             f"{settled:%Y-%m-%d %H:%M}", why])
    if not rows:
        return "无异议"
    path = write_csv(demo.files / "objections.csv", publicity.OBJECTION_COLUMNS + publicity.OBJECTION_OPTIONAL,
                           rows)
    with unit_of_work(demo.app.sessions) as s:
        publicity.import_objections(session=s, path=path, config=demo.app.config, now=demo.app.clock.now())
    return f"异议 {len(rows)} 件（成立 1 件，不成立 {len(rows) - 1} 件）"


def _first_submission(*, session, window_id: int) -> str | None:
    from zhicheng.publicity.models import PublicityEntry
    return session.scalars(select(Application.submission_id).join(
        PublicityEntry, PublicityEntry.application_id == Application.id)
        .where(PublicityEntry.window_id == window_id).order_by(Application.id).limit(1)).first()


def _deliver(demo: Demo, as_of: str) -> str:
    from zhicheng.flows.delivery import push
    before = demo.standins.hall.sms_sent
    got = _run(demo, push, as_of=as_of)
    return f"{report.push_line(got)}；大厅向申报人发送短信 {demo.standins.hall.sms_sent - before} 条"


def _run(demo: Demo, flow: Any, **params: Any) -> Any:
    """A flow run in Prefect and its summary, also when it ended Failed because it needs
    a person (zhicheng.flows.attention): the demo reports it like any other. Every flow
    of the script runs here, on the demo's runner (in this process, or on workers)."""
    return demo.flows.run(flow, **params)


def _plain(counts: Counter) -> str:
    return "、".join(f"{k} {n} 份" for k, n in sorted(counts.items()))


def where(app: App, held: dict[str, Any]) -> dict[str, str]:
    home = app.settings.home.resolve()
    return {"电子证书": f"{home / 'certificates'}（{held['certificates']} 张）", "公示名单": str(home / "publicity"),
            "报表": str(home / "reports"), "投票报告": str(home / "votes"),
            "Data Docs（数据质量）": str(home / "quality"), "工作人员表格": str(home / "demo-files"),
            "数据库": app.engine.url.render_as_string(hide_password=True)}


# What the progress line says of each step (the names stay the bench's stage keys).
STEP_LABELS = {"intake": "收件", "学信": "学信学历核验", "validation": "材料审核", "resubmissions": "重新提交",
               "review": "审核决定", "评前 publicity": "评前/初定公示", "votes": "专家评审投票",
               "评后 publicity": "评后公示", "year-end": "年终发证"}

SCRIPT: list[tuple[str, Callable[[Demo], None]]] = [
    ("intake", take_in), ("学信", check_education), ("validation", check_and_return),
    ("resubmissions", resubmit), ("review", review),
    ("评前 publicity", publicity_before), ("votes", vote), ("评后 publicity", publicity_after),
    ("year-end", year_end),
]
