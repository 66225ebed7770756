"""`zhicheng push` and `zhicheng reconcile`: delivery to the province and the hall."""
from __future__ import annotations


import typer

from zhicheng.cli.output import (EXIT_NEEDS_HUMAN, AsOfOption, JsonOption, app_at, fail, guarded,
                                 print_json, print_table)
from zhicheng.cli.progress import run



@guarded
def push(
    retry_dead: bool = typer.Option(False, "--retry-dead", help="put dead letters back in the queue first"),
    dismiss: list[int] = typer.Option(None, "--dismiss", help="outbox item id of a rejected or dead item "
                                      "dealt with another way (repeatable); it stops being listed"),
    as_of: str = AsOfOption,
    as_json: bool = JsonOption,
) -> None:
    """Deliver pending records to the province and returns/notifications to the hall.

    Exit 1 while rejected records or dead letters are waiting for a human."""
    if retry_dead or dismiss:
        _housekeeping(retry_dead, dismiss or [], as_of)
    summary = _run(lambda: run(_flows().push, as_json=as_json, as_of=as_of))
    if as_json:
        print_json(summary)
    else:
        _show_push(summary)
    if summary["problems"]["rejected"] or summary["problems"]["dead"]:
        raise typer.Exit(EXIT_NEEDS_HUMAN)


@guarded
def reconcile(
    batch_year: int = typer.Option(None, "--batch-year", help="only the issuers and years of this batch year"),
    full: bool = typer.Option(False, "--full", help="compare record by record even where counts agree"),
    as_of: str = AsOfOption,
    as_json: bool = JsonOption,
) -> None:
    """Compare the local registry with the province; re-queue what it lacks or holds stale.

    Exit 1 while differences remain (re-queued records count until a push delivers them)."""
    from zhicheng.config import get_config, require_batch_year
    require_batch_year(get_config(), batch_year)
    summary = _run(lambda: run(_flows().reconcile, as_json=as_json, batch_year=batch_year, as_of=as_of,
                               full=full))
    if as_json:
        print_json(summary)
    else:
        from zhicheng.delivery.reconcile import PROBLEM_WORDS
        print_table("核对范围", ["发证地区", "年度", "本地", "省平台", "逐条比对", "重新排队"],
                    [[s["region"], s["year"], s["local"], s["remote"], "是" if s["compared"] else "",
                      len(s["requeued"])] for s in summary["scopes"]])
        if summary["rows"]:
            print_table("差异", ["证书编号", "问题", "说明"],
                        [[r["certificate_no"], PROBLEM_WORDS.get(r["problem"], r["problem"]), r["detail"]]
                         for r in summary["rows"]])
        found = "，".join(f"{PROBLEM_WORDS.get(k, k)} {n}" for k, n in summary["differences"].items() if n)
        typer.echo(f"差异：{found or '无'}；重新排队 {summary['requeued']} 条；报表 {summary['report']}")
    if not summary["clean"]:
        raise typer.Exit(EXIT_NEEDS_HUMAN)


def _flows():
    from zhicheng.flows import delivery
    return delivery


def _run(call):
    """Connector errors as one line: settings are exit 2, an unreachable system exit 1."""
    from zhicheng.connectors.errors import Misconfigured, Unavailable
    try:
        return call()
    except Misconfigured as exc:
        fail(str(exc))
    except Unavailable as exc:
        fail(str(exc), EXIT_NEEDS_HUMAN)


def _housekeeping(retry_dead: bool, dismiss: list[int], as_of: str | None) -> None:
    import getpass

    from zhicheng.db.engine import unit_of_work
    from zhicheng.delivery import service as delivery
    app = app_at(as_of)
    with unit_of_work(app.sessions) as session:
        if retry_dead:
            typer.echo(f"{delivery.retry_dead(session=session, now=app.clock.now())} 条死信已重新排队", err=True)
        if dismiss:
            done = delivery.dismiss(session=session, item_ids=dismiss, actor=getpass.getuser(), now=app.clock.now())
            missing = sorted(set(dismiss) - set(done))
            if missing:
                fail(f"--dismiss {', '.join(map(str, missing))}: no rejected or dead outbox item with that id")
            typer.echo(f"已标记人工处理 {len(done)} 条", err=True)


def _show_push(summary: dict) -> None:
    from zhicheng.delivery.service import ANSWER_WORDS, OUTCOME_WORDS, STATUS_WORDS, TARGET_WORDS
    p, h, problems = summary["province"], summary["hall"], summary["problems"]
    answers = ("created", "updated", "unchanged", "rejected")
    if p["batches"]:
        print_table("省一体化平台批次", ["批次", "条数", "第几次", "结果", *(ANSWER_WORDS[a] for a in answers)],
                    [[b["batch_key"], b["records"], b["attempts"], OUTCOME_WORDS.get(b["outcome"], b["outcome"]),
                      *(b["counts"].get(a, 0) for a in answers)] for b in p["batches"]])
    typer.echo(f"省一体化平台：送达 {p['sent']} 条，被新版本替代 {p['superseded']} 条，待发送批次 {p['waiting']} 个"
               + ("（暂停：省一体化平台没有应答）" if p["paused"] else ""))
    typer.echo(f"网上办事服务大厅：送达 {h['sent']} 条（其中 {h['replayed']} 条对方已有），稍后重试 {h['retry']} 条")
    if problems["items"]:
        print_table(f"待人工处理：拒收 {problems['rejected']} 条，死信 {problems['dead']} 条",
                    ["id", "目标", "状态", "对象", "尝试次数", "错误"],
                    [[i["id"], TARGET_WORDS.get(i["target"], i["target"]), STATUS_WORDS.get(i["status"], i["status"]),
                      i["subject"], i["attempts"], i["error"]] for i in problems["items"]])



def register(app: typer.Typer) -> None:
    app.command("push")(push)
    app.command("reconcile")(reconcile)
