"""Certificates: `zhicheng issue`, `zhicheng verify`, `zhicheng revoke`, `zhicheng keys ...`."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import typer

from zhicheng.cli.output import (EXIT_NEEDS_HUMAN, AsOfOption, JsonOption, fail, guarded,
                                 print_json, print_table)

keys_app = typer.Typer(help="Issuers' signing keys (kept in ZHICHENG_HOME/keys).", no_args_is_help=True)


@guarded
def issue(
    batch_year: int = typer.Option(None, "--batch-year", help="only this batch year (申报年度)"),
    committee: str = typer.Option(None, "--committee", help="only this committee's applications (id)"),
    as_of: str = AsOfOption,
    as_json: bool = JsonOption,
) -> None:
    """Issue certificates for everything approved and past its final publicity."""
    from zhicheng.cli.progress import run
    from zhicheng.config import get_config, require_batch_year, require_committee
    from zhicheng.flows.issuance import issue as flow
    require_committee(get_config(), committee)
    require_batch_year(get_config(), batch_year)
    summary = run(flow, as_json=as_json, batch_year=batch_year, committee=committee, as_of=as_of)
    if as_json:
        print_json(summary)
    else:
        print_table("发证批次", ["发证批次", "默克尔根", "证书数"],
                    [[r["run_id"], r["merkle_root"] or "", r["certificates"]] for r in summary["runs"]])
        typer.echo(f"可发证 {summary['eligible']} 件：发证 {summary['issued']} 张，历史登记 "
                   f"{summary['registered']} 张，作废（被新版本替换） {summary['revoked']} 张")
        for p in summary["problems"]:
            typer.echo(f"办件 {p['application_id']}：{p['problem']}")
        for no in summary["missing_files"]:
            typer.echo(f"证书 {no}：证书库中缺少其 PDF 文件")
        for note in summary["notes"]:
            typer.echo(f"提示：{note}")
    if summary["problems"] or summary["missing_files"]:
        raise typer.Exit(EXIT_NEEDS_HUMAN)


@guarded
def verify(
    file: Path = typer.Argument(None, help="a certificate PDF", exists=False),
    number: str = typer.Option(None, "--number", help="certificate number (证书编号)"),
    code: str = typer.Option(None, "--code", help="verification code (验证码)"),
    keys_file: Path = typer.Option(None, "--keys", help="published keys (from `zhicheng keys export`) "
                                   "instead of ZHICHENG_HOME/keys"),
    as_json: bool = JsonOption,
) -> None:
    """Check a certificate: valid, tampered, unknown, revoked or superseded (exit 0 only if valid)."""
    from zhicheng.cli.output import app_at
    from zhicheng.issuance.keys import KeySetRefused, KeyStore, PublishedKeys
    from zhicheng.issuance.verify import verify_document, verify_number
    if (file is None) == (number is None):
        fail("give either FILE.pdf or --number N --code C")
    if number is not None and not code:
        fail("--number needs --code (the verification code printed on the certificate)")
    from sqlalchemy.exc import OperationalError, ProgrammingError
    if file is not None and not file.is_file():
        fail(f"{file}: no such file")
    app = app_at()
    try:
        with app.sessions() as session:
            if file is not None:
                try:
                    keys = (PublishedKeys.from_file(keys_file) if keys_file
                            else KeyStore.for_home(app.settings.home))
                except KeySetRefused as exc:
                    fail(f"--keys {exc}")
                verdict = verify_document(session=session, data=file.read_bytes(), keys=keys)
            else:
                verdict = verify_number(session=session, number=number, code=code)
    except (OperationalError, ProgrammingError) as exc:
        fail(f"the certificate registry cannot be read ({str(exc).splitlines()[0]}); "
             f"check ZHICHENG_DATABASE_URL or run `zhicheng db upgrade`")
    if as_json:
        print_json(verdict.as_dict())
    else:
        typer.echo(f"{verdict.outcome}: {verdict.certificate_no or '-'} {verdict.reason}")
    if not verdict.ok:
        raise typer.Exit(EXIT_NEEDS_HUMAN)


@guarded
def revoke(
    number: str = typer.Option(..., "--number", help="certificate number (证书编号)"),
    reason: str = typer.Option(..., "--reason", help="why (recorded and sent to the province)"),
    as_json: bool = JsonOption,
) -> None:
    """Revoke a certificate (撤销): recorded with its reason, never deleted, sent to the province."""
    from sqlalchemy import select

    from zhicheng.cli.output import app_at
    from zhicheng.db.engine import unit_of_work
    from zhicheng.issuance.models import Certificate
    from zhicheng.issuance.service import revoke as do_revoke
    if not reason.strip():
        fail("--reason must say why")
    app = app_at()
    with unit_of_work(app.sessions) as session:
        cert = session.scalar(select(Certificate).where(Certificate.certificate_no == number.strip().upper()))
        if cert is None:
            fail(f"no certificate numbered {number}")
        was = cert.status
        do_revoke(session=session, certificate=cert, reason=reason, now=app.clock.now())
        doc = {"certificate_no": cert.certificate_no, "status": cert.status, "was": was,
               "version": cert.version, "reason": cert.revoke_reason}
    if as_json:
        print_json(doc)
    else:
        typer.echo(f"{doc['certificate_no']}: {doc['status']} (v{doc['version']}) {doc['reason']}")


@keys_app.command("generate")
@guarded
def keys_generate(
    issuer: str = typer.Option(..., "--issuer", help="the issuer's 6-digit region code, e.g. 320100"),
    as_json: bool = JsonOption,
) -> None:
    """Make a new signing key for an issuer and make it current (rotation keeps old keys)."""
    from zhicheng.issuance.keys import KeyStore
    from zhicheng.settings import get_settings
    store = KeyStore.for_home(get_settings().home)
    key_id = store.generate(issuer, now=dt.datetime.now(dt.timezone.utc))
    if as_json:
        print_json({"issuer": issuer, "key_id": key_id, "folder": str(store.root / issuer)})
    else:
        typer.echo(f"{key_id} is now the signing key of {issuer} ({store.root / issuer})")


@keys_app.command("list")
@guarded
def keys_list(as_json: bool = JsonOption) -> None:
    """Every key (old ones too), which one signs for each issuer, and the root's fingerprint."""
    from zhicheng.issuance.key_certificates import fingerprint
    from zhicheng.issuance.keys import KeyStore
    from zhicheng.settings import get_settings
    store = KeyStore.for_home(get_settings().home)
    keys = store.published()
    if as_json:
        print_json([{k: v for k, v in r.items() if not k.endswith("_pem")} for r in keys])
    else:
        print_table("签名密钥", ["发证机关", "密钥编号", "创建时间", "当前使用"],
                    [[k["issuer"], k["key_id"], k["created_at"], "是" if k["current"] else ""] for k in keys])
        if keys:
            typer.echo(f"密钥集的根证书 SHA-256 指纹: {fingerprint(store.root_certificate())}")


@keys_app.command("export")
@guarded
def keys_export(out: Path = typer.Option(None, "--out", help="file to write (default: stdout)")) -> None:
    """The public keys to publish (JSON), for third parties and `zhicheng verify --keys`."""
    from zhicheng.issuance.keys import KeyStore
    from zhicheng.settings import get_settings
    doc = KeyStore.for_home(get_settings().home).publication()
    text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"{len(doc['keys'])} public keys written to {out}; root SHA-256 {doc['root_sha256']}")



def register(app: typer.Typer) -> None:
    app.command("issue")(issue)
    app.command("verify")(verify)
    app.command("revoke")(revoke)
    app.add_typer(keys_app, name="keys")
