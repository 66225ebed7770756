"""`zhicheng push` and `zhicheng reconcile`: delivery to the province and the hall."""
from __future__ import annotations


import typer

from zhicheng.cli.output import (EXIT_NEEDS_HUMAN, AsOfOption, JsonOption, app_at, fail, guarded,
                                 print_json, print_table)



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
    summary = _run(lambda: _flows().push(as_of=as_of))
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
    summary = _run(lambda: _flows().reconcile(batch_year=batch_year, as_of=as_of, full=full))
    if as_json:
        print_json(summary)
    else:
        print_table("scopes", ["issuer region", "year", "local", "province", "record by record", "re-queued"],
                    [[s["region"], s["year"], s["local"], s["remote"], "yes" if s["compared"] else "",
                      len(s["requeued"])] for s in summary["scopes"]])
        if summary["rows"]:
            print_table("differences", ["certificate", "problem", "detail"],
                        [[r["certificate_no"], r["problem"], r["detail"]] for r in summary["rows"]])
        typer.echo(f"differences {summary['differences']}, re-queued {summary['requeued']}; "
                   f"report {summary['report']}")
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
    from zhicheng.services import delivery
    app = app_at(as_of)
    with unit_of_work(app.sessions) as session:
        if retry_dead:
            typer.echo(f"{delivery.retry_dead(session, now=app.clock.now())} dead letters queued again", err=True)
        if dismiss:
            done = delivery.dismiss(session, item_ids=dismiss, actor=getpass.getuser(), now=app.clock.now())
            missing = sorted(set(dismiss) - set(done))
            if missing:
                fail(f"--dismiss {', '.join(map(str, missing))}: no rejected or dead outbox item with that id")
            typer.echo(f"dismissed {len(done)} items", err=True)


def _show_push(summary: dict) -> None:
    p, h, problems = summary["province"], summary["hall"], summary["problems"]
    if p["batches"]:
        print_table("province batches", ["batch", "records", "attempt", "outcome", "created", "updated",
                                         "unchanged", "rejected"],
                    [[b["batch_key"], b["records"], b["attempts"], b["outcome"],
                      *(b["counts"].get(s, 0) for s in ("created", "updated", "unchanged", "rejected"))]
                     for b in p["batches"]])
    typer.echo(f"province: sent {p['sent']}, superseded {p['superseded']}, batches waiting {p['waiting']}"
               + (" (paused: the province is not answering)" if p["paused"] else ""))
    typer.echo(f"hall: sent {h['sent']} ({h['replayed']} already there), retry later {h['retry']}")
    if problems["items"]:
        print_table(f"needs a human: {problems['rejected']} rejected, {problems['dead']} dead letters",
                    ["id", "target", "status", "subject", "attempts", "error"],
                    [[i["id"], i["target"], i["status"], i["subject"], i["attempts"], i["error"]]
                     for i in problems["items"]])



def register(app: typer.Typer) -> None:
    app.command("push")(push)
    app.command("reconcile")(reconcile)
