"""`zhicheng show`: one application, or one person's certificates (查看审核进度)."""
from __future__ import annotations

import typer

from zhicheng.cli.output import EXIT_NEEDS_HUMAN, JsonOption, fail, guarded, print_json

WORDS = {"approve": "通过", "return": "退回修改", "reject": "不通过", "withdraw": "撤回", "remove": "移除"}


@guarded
def show(
    subject: str = typer.Argument(..., help="a submission id (办件编号), a certificate number "
                                           "(证书编号) or a holder's ID number (身份证号)"),
    as_json: bool = JsonOption,
) -> None:
    """Show an application (stage, history, findings, messages, certificates) or certificates
    with their lineage; ID numbers masked. Exit 1 when nothing matches."""
    from zhicheng.cli.output import app_at
    from zhicheng.domain.identity import id_number_problems
    from zhicheng.issuance import show as svc
    subject = subject.strip()
    if not subject:
        fail("give a submission id, a certificate number or an ID number")
    app = app_at()
    with app.sessions() as session:
        application = svc.application(session=session, submission_id=subject)
        certificates = []
        if application is None:
            by_holder = not id_number_problems(subject.upper())
            certificates = svc.certificates(session=session, id_number=subject.upper()) if by_holder else []
            certificates = certificates or svc.certificates(session=session, number=subject)
    if application is None and not certificates:
        if as_json:
            print_json({"subject": subject, "kind": None})
        fail(f"{subject}: no application, certificate or holder of that number here", EXIT_NEEDS_HUMAN)
    if as_json:
        print_json({"kind": "application", "application": application} if application is not None
                   else {"kind": "certificates", "certificates": certificates})
    elif application is not None:
        _print_application(application)
    else:
        _print_certificates(certificates)


def _print_application(a: dict) -> None:
    stage = f"{a['stage']}（第 {a['stage_index'] + 1}/{len(a['chain'])} 环节）" if a["stage"] else "—"
    typer.echo(f"办件 {a['submission_id']}（第 {a['revision']} 版）：{a['track']}，{a['batch_year']} 年度，"
               f"{a['applicant']['name']} {a['applicant']['id_number']}")
    typer.echo(f"状态 {a['status']}，当前环节 {stage}；{a['qualification_name'] or ''}"
               f"（{a['series'] or ''} {a['specialty'] or ''} {a['level'] or ''}），{a['employer'] or ''}")
    if a["lookup"]:
        lk = a["lookup"]
        typer.echo(f"原证书 {lk['certificate_no']} 查证：{lk['outcome']}（{lk['source'] or '—'}，{lk['checked_at']}）")
    _section("审核记录", [f"{d['decided_at']}  {d['stage']}  {WORDS.get(d['action'], d['action'])}  "
                         f"{d['actor']}（{d['office']}）" + (f"：{d['reason']}" if d["reason"] else "")
                         for d in a["decisions"]])
    _section("审核发现", [f"[{f['severity']}] {f['code']}（{f['field'] or f['material_id'] or '—'}）：{f['message']}"
                         for f in a["findings"]])
    _section("发往网上大厅的消息", [f"{m['queued_at']}  {m['to']}  {m['status']}  {m['summary']}"
                                 for m in a["messages"]])
    if a["certificates"]:
        _print_certificates(a["certificates"])


def _section(title: str, lines: list[str]) -> None:
    # plain lines, not a table: they stay whole in logs, pipes and narrow terminals
    typer.echo(f"{title}：" + ("" if lines else "无"))
    for line in lines:
        typer.echo(f"  {line}")


def _print_certificates(certs: list[dict]) -> None:
    _section("证书", [f"{c['certificate_no']} v{c['version']} {c['status']}  {c['holder_name']} "
                     f"{c['holder_id_number']}  {c['qualification_name']}（{c['level']}，{c['obtained_by']}）  "
                     f"批准 {c['approved_on']}，发证 {c['issued_on']}，{c['issuer']}"
                     + (f"；取代 {c['replaces']}" if c["replaces"] else "")
                     + (f"；已被 {c['replaced_by']} 取代" if c["replaced_by"] else "")
                     + (f"；撤销：{c['revoke_reason']}" if c["status"] == "revoked" and c["revoke_reason"] else "")
                     for c in certs])


def register(app: typer.Typer) -> None:
    app.command("show")(show)
