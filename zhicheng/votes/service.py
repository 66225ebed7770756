"""Expert votes (专家评审): rosters, sessions, ballots, the tally and its outcome.

Files (formats in docs/votes.md) are refused whole when any row is bad. Ballots that
break a rule of the vote (absent or recused expert, duplicate, proxy, not on the
agenda) are not bad rows: they are stored and reported by the tally as anomalies,
and the applications they touch get no outcome until a human voids ballots. An
application withdrawn by its applicant (取消申请) leaves the agenda of every session not
yet decided for it (`withdraw`, called by the cancellation): its item's outcome is
`withdrawn`, recorded once like any outcome, and the tally decides nothing for it.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from zhicheng.clock import TypedTimeError, typed_date
from zhicheng.config import Config
from zhicheng.db.batches import in_pages, insert_rows
from zhicheng.db.models import Application, CommitteeMember, Employer
from zhicheng.domain import tally as rules
from zhicheng.domain.application_status import ApplicationStatus
from zhicheng.domain.identity import uscc_problems
from zhicheng.errors import BadValue, UserError
from zhicheng.files.tables import FileRefused, Row, read_table
from zhicheng.review.machine_stages import VOTE_STAGE_KIND, MachineDecision, decide_machine_stages
from zhicheng.votes.models import AgendaItem, Attendance, Ballot, Recusal, VotingSession

ROSTER_COLUMNS = ("评委会编号", "专家编号", "姓名", "工作单位")
ROSTER_OPTIONAL = ("统一社会信用代码", "状态")
BALLOT_COLUMNS = ("会议编号", "申报编号", "专家编号", "表决意见")
BALLOT_OPTIONAL = ("投票人",)
SESSION_SHEETS = {"会议": ("会议编号", "评委会编号", "召开日期"), "议程": ("申报编号",),
                  "出席": ("专家编号", "是否出席")}
SESSION_OPTIONAL_SHEET = {"回避": ("专家编号", "申报编号", "原因")}
YES_WORDS, NO_WORDS = {"是", "出席", "Y", "y", "yes", "1"}, {"否", "缺席", "N", "n", "no", "0"}


class UnknownSession(UserError, LookupError):
    pass


def _ratios(config: Config) -> tuple[rules.Ratio, rules.Ratio]:
    vote = config.policy.vote
    return rules.Ratio.of(vote.quorum), rules.Ratio.of(vote.pass_)


# ---------------------------------------------------------------- rosters

def import_roster(*, session: Session, path: Path | str, config: Config) -> dict[str, int]:
    """Upsert committee members (专家名单) from a CSV/XLSX file; refused whole if any row is bad."""
    rows = read_table(path, required=ROSTER_COLUMNS, optional=ROSTER_OPTIONAL, limits=config.policy.imports)
    problems: list[tuple[int, str]] = []
    seen: dict[tuple[str, str], int] = {}
    for r in rows:
        problems += [(r.number, m) for m in _roster_row_problems(r, config)]
        key = (r.get("评委会编号"), r.get("专家编号"))
        if key in seen:
            problems.append((r.number, f"专家编号 {key[1]} 与第 {seen[key]} 行重复"))
        seen.setdefault(key, r.number)
    if problems:
        raise FileRefused(path, problems)
    held = _members_by_committee(session=session, committees={r.get("评委会编号") for r in rows})
    fresh = []
    for r in rows:
        committee, code = r.get("评委会编号"), r.get("专家编号")
        fields = {"name": r.get("姓名"), "employer_name": r.get("工作单位") or None,
                  "employer_uscc": r.get("统一社会信用代码") or None,
                  "active": r.get("状态") not in ("停用", "离任", "否")}
        member = held[committee].get(code)
        if member is None:
            fresh.append({"committee_id": committee, "member_code": code, **fields})
        else:
            for name, value in fields.items():
                setattr(member, name, value)
    insert_rows(session=session, model=CommitteeMember, rows=fresh)
    session.flush()
    return {"rows": len(rows), "created": len(fresh), "updated": len(rows) - len(fresh)}


def _roster_row_problems(r: Row, config: Config) -> list[str]:
    out = [f"{h} 为空" for h in ("评委会编号", "专家编号", "姓名") if not r.get(h)]
    if r.get("评委会编号") and r.get("评委会编号") not in config.committees:
        out.append(f"评委会编号 {r.get('评委会编号')} 不存在")
    uscc = r.get("统一社会信用代码")
    if uscc and uscc_problems(uscc):
        out.append(f"统一社会信用代码 {uscc} 无效")
    if r.get("状态") not in ("", "在任", "停用", "离任", "是", "否"):
        out.append(f"状态 {r.get('状态')} 应为 在任 或 停用")
    return out


# ---------------------------------------------------------------- sessions

def import_session(*, session: Session, path: Path | str, config: Config) -> dict[str, Any]:
    """A voting session (评审会议) from an XLSX workbook: sheets 会议, 议程, 出席 and 回避."""
    limits = config.policy.imports
    sheets = {name: read_table(path, required=cols, sheet=name, limits=limits)
              for name, cols in SESSION_SHEETS.items()}
    from zhicheng.files.tables import sheet_names
    declared = (read_table(path, required=SESSION_OPTIONAL_SHEET["回避"], sheet="回避", limits=limits)
                if "回避" in sheet_names(path) else [])
    problems: list[tuple[int | None, str]] = []
    head = sheets["会议"]
    if len(head) != 1:
        raise FileRefused(path, [(None, "sheet 会议 must have exactly one row (one session a workbook)")])
    h = head[0]
    code, committee_id = h.get("会议编号"), h.get("评委会编号")
    held_on, held_problem = _held_on(h.get("召开日期"))
    problems += [(h.number, f"会议: {m}") for m in _head_problems(h, config) + held_problem]
    if problems:
        raise FileRefused(path, problems)
    assert held_on is not None, "a date that does not parse is a problem, raised above"
    total = int(h.get("委员人数") or config.committees[committee_id].members)
    existing = session.scalars(select(VotingSession).where(VotingSession.code == code)).first()
    if existing is not None and session.scalars(
            select(Ballot.id).where(Ballot.session_id == existing.id).limit(1)).first():
        raise FileRefused(path, [(h.number, f"会议 {code} 已导入选票，不能再修改议程或出席")])
    members = {m.member_code: m for m in session.scalars(
        select(CommitteeMember).where(CommitteeMember.committee_id == committee_id,
                                      CommitteeMember.active.is_(True)))}
    apps = _applications(session=session, keys=[r.get("申报编号") for r in sheets["议程"]])
    problems += _agenda_problems(sheets["议程"], apps, committee_id, config)
    attendance, att_problems = _attendance(sheets["出席"], members, total)
    problems += att_problems
    problems += [(r.number, f"回避: {m}") for r in declared
                 for m in _declared_problems(r, members, {r2.get("申报编号") for r2 in sheets["议程"]})]
    if problems:
        raise FileRefused(path, problems)
    vs = existing or VotingSession(code=code)
    vs.committee_id, vs.held_on, vs.members_total, vs.status = committee_id, held_on, total, "open"
    session.add(vs)
    session.flush()
    _replace_session_rows(session=session, vs=vs, apps=[apps[r.get("申报编号")] for r in sheets["议程"]],
                          present={members[c].id: p for c, p in attendance.items()})
    n_recused = _store_recusals(session=session, vs=vs, members=members, apps=apps,
                                declared={(r.get("专家编号"), r.get("申报编号")): r.get("原因") for r in declared})
    session.flush()
    return {"session": code, "committee": committee_id, "members_total": total,
            "agenda": len(sheets["议程"]), "present": sum(attendance.values()),
            "recusals": n_recused}


def _held_on(text: str) -> tuple[dt.date | None, list[str]]:
    try:
        return typed_date(text, what="召开日期"), []
    except TypedTimeError as exc:
        return None, [str(exc)]


def _head_problems(h: Row, config: Config) -> list[str]:
    out = [f"{c} 为空" for c in ("会议编号", "评委会编号") if not h.get(c)]
    if h.get("评委会编号") and h.get("评委会编号") not in config.committees:
        out.append(f"评委会编号 {h.get('评委会编号')} 不存在")
    total = h.get("委员人数")
    if total and (not total.isdigit() or int(total) % 2 == 0):
        out.append(f"委员人数 {total} 应为奇数")
    return out


def _applications(*, session: Session, keys: Iterable[str]) -> dict[str, Application]:
    keys = sorted({k for k in keys if k})
    return {a.submission_id: a for page in in_pages(keys) for a in session.scalars(
        select(Application).where(Application.submission_id.in_(page)))}


def _agenda_problems(rows: list[Row], apps: dict[str, Application], committee_id: str,
                     config: Config) -> list[tuple[int, str]]:
    out, seen = [], set()
    for r in rows:
        key = r.get("申报编号")
        app = apps.get(key)
        if key in seen:
            out.append((r.number, f"议程: 申报编号 {key} 重复"))
        seen.add(key)
        if app is None:
            out.append((r.number, f"议程: 申报编号 {key} 不存在"))
        elif app.committee_id != committee_id:
            out.append((r.number, f"议程: 申报 {key} 不属于评委会 {committee_id}"))
        elif (app.status != ApplicationStatus.IN_REVIEW or app.stage is None
              or config.chains.kinds.get(app.stage) != VOTE_STAGE_KIND):
            out.append((r.number, f"议程: 申报 {key} 不在专家评审环节（当前 {app.stage or app.status}）"))
    return out


def _attendance(rows: list[Row], members: dict[str, CommitteeMember],
                total: int) -> tuple[dict[str, bool], list[tuple[int | None, str]]]:
    out: dict[str, bool] = {}
    problems: list[tuple[int | None, str]] = []
    for r in rows:
        code, word = r.get("专家编号"), r.get("是否出席")
        if code not in members:
            problems.append((r.number, f"出席: 专家编号 {code} 不是本评委会在任专家"))
        elif code in out:
            problems.append((r.number, f"出席: 专家编号 {code} 重复"))
        elif word not in YES_WORDS | NO_WORDS:
            problems.append((r.number, f"出席: 是否出席 {word!r} 应为 是 或 否"))
        else:
            out[code] = word in YES_WORDS
    if len(rows) > total:
        problems.append((None, f"出席: 列出 {len(rows)} 名专家，多于委员人数 {total}"))
    return out, problems


def _declared_problems(r: Row, members: dict[str, CommitteeMember], agenda: set[str]) -> list[str]:
    out = []
    if r.get("专家编号") not in members:
        out.append(f"专家编号 {r.get('专家编号')} 不是本评委会在任专家")
    if r.get("申报编号") not in agenda:
        out.append(f"申报编号 {r.get('申报编号')} 不在议程上")
    return out


def _replace_session_rows(*, session: Session, vs: VotingSession, apps: list[Application],
                          present: dict[int, bool]) -> None:
    """A re-imported workbook's agenda and attendance replace the draft's, set-wise: one
    DELETE a table, one multi-row INSERT each."""
    session.flush()
    for model in (AgendaItem, Attendance, Recusal):
        session.execute(delete(model).where(model.session_id == vs.id).execution_options(synchronize_session=False))
    insert_rows(session=session, model=AgendaItem, rows=[{"session_id": vs.id, "application_id": a.id} for a in apps])
    insert_rows(session=session, model=Attendance, rows=[{"session_id": vs.id, "member_id": m, "present": p}
                                                         for m, p in present.items()])


def _store_recusals(*, session: Session, vs: VotingSession, members: dict[str, CommitteeMember],
                    apps: dict[str, Application], declared: dict[tuple[str, str], str]) -> int:
    """Record every recusal (rules.md: the recusal is recorded): same employer or declared."""
    employers = _employers(session=session, apps=apps.values())
    experts = [rules.Expert(m.member_code, True, m.employer_uscc, m.employer_name) for m in members.values()]
    candidates = [_candidate(a, employers) for a in apps.values()]
    found = rules.recusals(experts, candidates, declared.keys())
    rows = [{"session_id": vs.id, "member_id": members[code].id, "application_id": apps[key].id,
             "reason": f"{reason}：{detail}" if (detail := declared.get((code, key)) or "") else reason}
            for (code, key), reason in found.items()]
    insert_rows(session=session, model=Recusal, rows=rows)
    return len(found)


def _employers(*, session: Session, apps: Iterable[Application]) -> dict[int, Employer]:
    ids = sorted({a.employer_id for a in apps if a.employer_id})
    return {e.id: e for page in in_pages(ids) for e in session.scalars(select(Employer).where(Employer.id.in_(page)))}


def _candidate(app: Application, employers: dict[int, Employer]) -> rules.Candidate:
    """The employer's USCC (the row's key) and its name as this application submitted it."""
    e = employers.get(app.employer_id) if app.employer_id is not None else None
    return rules.Candidate(app.submission_id, e.uscc if e else None, app.employer_name)


def get_session(*, session: Session, code: str) -> VotingSession:
    vs = session.scalars(select(VotingSession).where(VotingSession.code == code)).first()
    if vs is None:
        raise UnknownSession(f"voting session {code!r} does not exist; import it with "
                             f"`zhicheng votes session-import FILE`")
    return vs


# ---------------------------------------------------------------- ballots

def import_ballots(*, session: Session, path: Path | str, config: Config) -> dict[str, int]:
    """Store ballots (选票) from a CSV/XLSX file; refused whole if any row is bad.

    Re-importing the same file is harmless: a row already stored is skipped.
    """
    rows = read_table(path, required=BALLOT_COLUMNS, optional=BALLOT_OPTIONAL, limits=config.policy.imports)
    source = Path(path).name
    sessions = {vs.code: vs for vs in session.scalars(select(VotingSession).where(
        VotingSession.code.in_({r.get("会议编号") for r in rows})))} if rows else {}
    apps = _applications(session=session, keys=[r.get("申报编号") for r in rows])
    members = _members_by_committee(session=session, committees={vs.committee_id for vs in sessions.values()})
    decided = _decided(session=session, sessions=sessions.values())
    problems: list[tuple[int, str]] = []
    for r in rows:
        problems += [(r.number, m) for m in _ballot_problems(r, sessions, apps, members, decided)]
    if problems:
        raise FileRefused(path, problems)
    held = _stored_ballots(session=session, session_ids=[vs.id for vs in sessions.values()], source=source)
    fresh = []
    for r in rows:
        vs = sessions[r.get("会议编号")]
        ballot = dict(session_id=vs.id, application_id=apps[r.get("申报编号")].id,
                      member_id=members[vs.committee_id][r.get("专家编号")].id, vote=r.get("表决意见"),
                      cast_by=r.get("投票人") or None, source_file=source, source_row=r.number)
        key = tuple(ballot[c] for c in _BALLOT_KEY)
        if key not in held:
            held.add(key)
            fresh.append(ballot)
    insert_rows(session=session, model=Ballot, rows=fresh)   # in row order
    return {"rows": len(rows), "stored": len(fresh), "already_stored": len(rows) - len(fresh)}


_BALLOT_KEY = ("session_id", "application_id", "member_id", "vote", "cast_by", "source_row")


def _stored_ballots(*, session: Session, session_ids: list[int], source: str) -> set[tuple]:
    """The ballots this file already stored (a re-import skips them), in one query."""
    if not session_ids:
        return set()
    return set(session.execute(select(*(getattr(Ballot, c) for c in _BALLOT_KEY)).where(
        Ballot.session_id.in_(session_ids), Ballot.source_file == source)).tuples())


def _members_by_committee(*, session: Session, committees: set[str]) -> dict[str, dict[str, CommitteeMember]]:
    out: dict[str, dict[str, CommitteeMember]] = {c: {} for c in committees}
    if committees:
        for m in session.scalars(select(CommitteeMember).where(CommitteeMember.committee_id.in_(committees))):
            out[m.committee_id][m.member_code] = m
    return out


def _decided(*, session: Session, sessions: Iterable[VotingSession]) -> set[tuple[int, int]]:
    ids = [vs.id for vs in sessions]
    if not ids:
        return set()
    # a withdrawn item's ballots are still taken (a file is not refused for them): they count for nothing
    return {(a.session_id, a.application_id) for a in session.scalars(
        select(AgendaItem).where(AgendaItem.session_id.in_(ids), AgendaItem.outcome.in_((rules.PASS, rules.FAIL))))}


def _ballot_problems(r: Row, sessions, apps, members, decided) -> list[str]:
    out = [f"{h} 为空" for h in BALLOT_COLUMNS if not r.get(h)]
    if out:
        return out
    vs = sessions.get(r.get("会议编号"))
    app = apps.get(r.get("申报编号"))
    if vs is None:
        out.append(f"会议编号 {r.get('会议编号')} 不存在")
    if app is None:
        out.append(f"申报编号 {r.get('申报编号')} 不存在")
    if vs is not None and r.get("专家编号") not in members[vs.committee_id]:
        out.append(f"专家编号 {r.get('专家编号')} 不是评委会 {vs.committee_id} 的专家")
    if r.get("表决意见") not in rules.VOTE_VALUES:
        out.append(f"表决意见 {r.get('表决意见')!r} 应为 {' / '.join(rules.VOTE_VALUES)} 之一")
    if vs is not None and app is not None and (vs.id, app.id) in decided:
        out.append(f"申报 {app.submission_id} 在会议 {vs.code} 的表决结果已确定，不再接受选票")
    return out


def void_ballots(*, session: Session, session_code: str, source_file: str, rows: list[int],
                 reason: str, now: dt.datetime) -> int:
    """A human resolves an anomaly by voiding the ballots of the rows it names."""
    if not reason.strip():
        raise BadValue("a reason is required to void ballots")
    vs = get_session(session=session, code=session_code)
    found = list(session.scalars(select(Ballot).where(
        Ballot.session_id == vs.id, Ballot.source_file == source_file,
        Ballot.source_row.in_(rows), Ballot.voided_at.is_(None))))
    for b in found:
        b.voided_at, b.void_reason = now, reason
    session.flush()
    return len(found)


# ---------------------------------------------------------------- tally

def tally(*, session: Session, session_code: str, config: Config) -> dict[str, Any]:
    """Count a session's valid ballots: per application counts and outcome, and anomalies."""
    vs = get_session(session=session, code=session_code)
    quorum, pass_ratio = _ratios(config)
    members = {m.id: m for m in session.scalars(
        select(CommitteeMember).where(CommitteeMember.committee_id == vs.committee_id))}
    present = {a.member_id: a.present for a in session.scalars(
        select(Attendance).where(Attendance.session_id == vs.id))}
    items = list(session.scalars(select(AgendaItem).where(AgendaItem.session_id == vs.id)
                                 .order_by(AgendaItem.id)))
    ballots = session.execute(select(Ballot.source_row, Ballot.source_file, Ballot.member_id, Ballot.application_id,
                                     Ballot.vote, Ballot.cast_by)   # rows, not objects: a session has thousands
                              .where(Ballot.session_id == vs.id, Ballot.voided_at.is_(None))
                              .order_by(Ballot.id)).all()
    app_ids = {i.application_id for i in items} | {b.application_id for b in ballots}
    apps = {a.id: a for page in in_pages(sorted(app_ids))
            for a in session.scalars(select(Application).where(Application.id.in_(page)))}
    employers = _employers(session=session, apps=apps.values())
    experts = [rules.Expert(m.member_code, present.get(m.id, False), m.employer_uscc, m.employer_name)
               for m in members.values() if m.id in present]
    agenda = [_candidate(apps[i.application_id], employers) for i in items]
    recused = {(members[r.member_id].member_code, apps[r.application_id].submission_id): r.reason
               for r in session.scalars(select(Recusal).where(Recusal.session_id == vs.id))}
    cast = [rules.CastBallot(b.source_row, b.source_file, members[b.member_id].member_code,
                             apps[b.application_id].submission_id, b.vote, b.cast_by) for b in ballots]
    result = rules.tally(members_total=vs.members_total, experts=experts, agenda=agenda,
                         ballots=cast, recused=recused, quorum=quorum, pass_ratio=pass_ratio)
    recorded = {apps[i.application_id].submission_id: i.outcome for i in items}
    statuses = {a.submission_id: a.status for a in apps.values()}
    outcomes = {t.application: rules.agenda_outcome(tallied=t.outcome, recorded=recorded.get(t.application),
                                                    application_status=statuses[t.application])
                for t in result.applications}
    anomalies = rules.open_anomalies(result.anomalies, (k for k, o in outcomes.items() if o == rules.WITHDRAWN))
    return {"session": vs.code, "committee": vs.committee_id, "held_on": vs.held_on.isoformat(),
            "members_total": result.members_total, "present": result.present,
            "quorum_needed": result.quorum_needed, "quorum": result.quorum,
            "applications": [{**asdict(t), "anomalies": list(t.anomalies),
                              "outcome": outcomes[t.application],
                              "recorded_outcome": recorded.get(t.application)}
                             for t in result.applications],
            "anomalies": [asdict(a) | {"rows": list(a.rows)} for a in anomalies]}


def apply_tally(*, session: Session, session_code: str, config: Config, now: dt.datetime) -> dict[str, Any]:
    """Tally, record each outcome once, and move the applications: pass approves the
    专家评审 stage, fail rejects it, a withdrawn application is recorded as withdrawn and
    not moved. Applications withheld by an anomaly are left alone. The session is tallied
    once every item has its outcome. Safe to run again: an outcome already recorded is
    not decided twice."""
    result = tally(session=session, session_code=session_code, config=config)
    vs = get_session(session=session, code=session_code)
    items = {i.application_id: i for i in session.scalars(  # locked: two runs never decide one item
        select(AgendaItem).where(AgendaItem.session_id == vs.id).with_for_update()
        .execution_options(populate_existing=True))}
    apps = _applications(session=session, keys=[t["application"] for t in result["applications"]])
    deciding: list[tuple[dict[str, Any], Application, MachineDecision]] = []
    withdrawn = []
    for t in result["applications"]:
        app = apps[t["application"]]
        if t["outcome"] is None or items[app.id].outcome is not None:
            continue
        if t["outcome"] == rules.WITHDRAWN:   # left by its applicant: settled, nothing to decide
            items[app.id].outcome = t["recorded_outcome"] = rules.WITHDRAWN
            withdrawn.append(app.submission_id)
            continue
        action = "approve" if t["outcome"] == rules.PASS else "reject"
        reason = (f"专家评审：出席且未回避{t['present']}人，同意{t['yes']}票，"
                  f"需{t['threshold']}票，{'通过' if action == 'approve' else '未通过'}")
        deciding.append((t, app, MachineDecision(app.id, action, reason, _committee_name(config, vs.committee_id))))
    moved, problems = [], []
    for (t, app, _), problem in zip(deciding, decide_machine_stages(
            session=session, wanted=[d for _, _, d in deciding], now=now, config=config,
            expected_kind=VOTE_STAGE_KIND), strict=True):
        if problem:
            problems.append({"application": app.submission_id, "problem": problem})
            continue
        items[app.id].outcome = t["outcome"]
        t["recorded_outcome"] = t["outcome"]
        moved.append(app.submission_id)
    if rules.session_complete(i.outcome for i in items.values()):
        vs.status = "tallied"
    session.flush()
    return {**result, "decided": moved, "withdrawn": withdrawn, "decide_problems": problems}


def withdraw(*, session: Session, application_id: int) -> int:
    """An application withdrawn by its applicant leaves every agenda not yet decided for
    it: the item's outcome becomes `withdrawn` (the audit trail allows an outcome once and
    keeps the row); its session completes at its next tally. Returns how many items it left."""
    items = list(session.scalars(select(AgendaItem).where(
        AgendaItem.application_id == application_id, AgendaItem.outcome.is_(None)).with_for_update()))
    for item in items:
        item.outcome = rules.on_withdrawal(item.outcome)
    session.flush()
    return len(items)



def _committee_name(config: Config, committee_id: str) -> str:
    c = config.committees.get(committee_id)
    return c.name if c else committee_id
