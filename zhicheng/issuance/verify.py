"""Checking a certificate: by its PDF, or by number and verification code.

Outcomes: valid | tampered | unknown | revoked | superseded, each with a reason in
Chinese that a third party understands (docs/certificates.md lists them).
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhicheng.clock import local_date
from zhicheng.domain.certificate_numbers import normalize_code, number_problem
from zhicheng.domain.merkle import verify_proof
from zhicheng.issuance.keys import IssuerKey, verify_signature
from zhicheng.issuance.models import Certificate, IssuanceRun
from zhicheng.issuance.pdf import Unsealed, read_seal

OUTCOMES = ("valid", "tampered", "unknown", "revoked", "superseded")


class IssuerKeys(Protocol):
    """Public keys with the issuer each belongs to (KeyStore, PublishedKeys)."""

    def issuer_key(self, key_id: str) -> IssuerKey | None: ...


@dataclass
class Verdict:
    outcome: str
    reason: str
    certificate_no: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.outcome == "valid"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def verify_document(*, session: Session | None, data: bytes, keys: IssuerKeys) -> Verdict:
    """The key must be the certificate's issuer's, then the signature (both work offline
    with published keys), then the registry's word."""
    try:
        seal = read_seal(data)
    except Unsealed as exc:
        return Verdict("unknown", f"不是本系统签发的电子证书：{exc}")
    no = seal.certificate_no
    key = keys.issuer_key(seal.key_id)
    if key is None:
        return Verdict("unknown", f"签名密钥 {seal.key_id} 未公布，无法核验", no)
    issuer = no[:6]  # the number's region code is its issuer (rules.md: 证书编号)
    if key.issuer != issuer:
        return Verdict("tampered", f"签名密钥 {seal.key_id} 属于发证机关 {key.issuer}，而证书编号 {no} "
                       f"的发证机关是 {issuer}：证书不是由其发证机关签名的", no,
                       {"key_id": seal.key_id, "key_issuer": key.issuer, "certificate_issuer": issuer})
    if not verify_signature(key.public, seal.signature, seal.message):
        return Verdict("tampered", "数字签名与文件内容不符：文件签发后被改动", no,
                       {"key_id": seal.key_id})
    digest = hashlib.sha256(data).hexdigest()
    details = {"key_id": seal.key_id, "document_sha256": digest, "signature": "valid"}
    if session is None:
        return Verdict("valid", "数字签名有效（未查询证书状态）", no, details)
    cert = session.scalar(select(Certificate).where(Certificate.certificate_no == no))
    if cert is None:
        return Verdict("unknown", f"签名有效，但登记簿中没有证书 {no}", no, details)
    if cert.document_sha256 != digest:
        return Verdict("tampered", "签名有效，但文件与登记的证书文件不一致", no, details)
    details["merkle"] = _merkle(session=session, cert=cert, digest=digest)
    if details["merkle"] == "mismatch":
        return Verdict("tampered", "证书不在其发证批次的默克尔树中：登记簿记录不一致", no, details)
    return _status(session=session, cert=cert, details=details)


def verify_number(*, session: Session, number: str, code: str) -> Verdict:
    problem = number_problem(number)
    if problem:
        return Verdict("unknown", problem, number)
    no = number.strip().upper()
    cert = session.scalar(select(Certificate).where(Certificate.certificate_no == no))
    if cert is None:
        return Verdict("unknown", f"没有编号为 {no} 的证书", no)
    if not cert.verification_code:
        return Verdict("unknown", f"{no} 是历史登记记录，没有电子证书和验证码", no)
    if not hmac.compare_digest(normalize_code(code), cert.verification_code):
        return Verdict("unknown", "证书编号与验证码不匹配", no)
    return _status(session=session, cert=cert, details={"document_sha256": cert.document_sha256})


def _status(*, session: Session, cert: Certificate, details: dict[str, Any]) -> Verdict:
    no = cert.certificate_no
    details.update(holder_name=cert.holder_name, qualification_name=cert.qualification_name,
                   level=cert.level, issuer=cert.issuer, issued_on=cert.issued_on.isoformat(),
                   version=cert.version, status=cert.status)
    if cert.status == "revoked":
        newer = session.scalar(select(Certificate).where(Certificate.replaces == no)
                               .order_by(Certificate.id.desc()))
        when = local_date(cert.revoked_at).isoformat() if cert.revoked_at else "?"
        if newer is not None:
            details["replaced_by"] = newer.certificate_no
            return Verdict("superseded", f"已于{when}由证书 {newer.certificate_no} 取代"
                           f"（{cert.revoke_reason or '补办/换发'}）", no, details)
        return Verdict("revoked", f"已于{when}撤销：{cert.revoke_reason or '未说明原因'}", no, details)
    return Verdict("valid", "证书有效", no, details)


def _merkle(*, session: Session, cert: Certificate, digest: str) -> str:
    if not cert.issuance_run_id or cert.merkle_proof is None:
        return "none"
    run = session.get(IssuanceRun, cert.issuance_run_id)
    if run is None or not run.merkle_root:
        return "none"
    return "ok" if verify_proof(digest, cert.merkle_proof, run.merkle_root) else "mismatch"
