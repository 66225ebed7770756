"""Planted faults: which finding code catches each, where it may go, how it is planted.

Every fault kind names the code of config/findings.yaml that should catch it, the tracks
it fits (so that it yields that one finding and no other), and whether it is planted in
the data (before the files are made), in the files (after), or in 学信's answers.
"""
from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from zhicheng.standins import documents as docs
from zhicheng.standins import pdfwriter as pw
from zhicheng.standins.materials import Material

REVIEW = ("初定", "评审")
PAIRED = ("duplicate_active", "duplicate_file")  # need an earlier clean application
ALL = ("初定", "评审", "补办", "换发", "历史登记")


@dataclass(frozen=True)
class FaultKind:
    code: str
    tracks: tuple[str, ...] = ALL
    stage: str = "data"          # data | file | chsi
    target: str | None = None    # material type a file fault goes to (None: first of PREFERRED)


KINDS: dict[str, FaultKind] = {
    "id_check_char": FaultKind("applicant.id_number_invalid"),
    "gender_mismatch": FaultKind("applicant.gender_mismatch"),
    "uscc_invalid": FaultKind("employer.uscc_invalid"),
    # a 评审 application would also fail its committee's region cover
    "region_unknown": FaultKind("employer.region_unknown", ("初定", "补办", "换发", "历史登记")),
    "committee_unknown": FaultKind("committee.unknown", ("评审",)),
    "committee_not_covering": FaultKind("committee.not_covering", ("评审",)),
    # 补办, 换发 and 历史登记 are year-round services whose forms ask no education
    "outside_period": FaultKind("submission.outside_period", REVIEW),
    "duplicate_active": FaultKind("application.duplicate_active", REVIEW),
    "material_missing": FaultKind("material.missing", ("初定", "评审", "补办", "换发")),
    "summary_too_long": FaultKind("summary.too_long", REVIEW),
    "ce_too_many": FaultKind("continuing_education.too_many", REVIEW),
    "ce_missing_year": FaultKind("continuing_education.missing_year", REVIEW),
    "assessment_missing_year": FaultKind("annual_assessment.missing_year", REVIEW),
    "unknown_material_type": FaultKind("material.unknown_type"),
    "invalid_submission": FaultKind("submission.invalid"),
    "photo_proportions": FaultKind("photo.proportions", stage="file", target="photo"),
    "oversize": FaultKind("material.too_large", stage="file", target="id_card"),
    "not_pdf": FaultKind("material.not_pdf", stage="file"),
    "encrypted": FaultKind("material.encrypted", stage="file"),
    "javascript": FaultKind("material.active_content", stage="file"),
    "launch_action": FaultKind("material.active_content", stage="file"),
    "embedded_file": FaultKind("material.active_content", stage="file"),
    "blank_page": FaultKind("material.blank_page", stage="file"),
    "low_dpi": FaultKind("material.low_resolution", stage="file", target="id_card"),
    "hash_mismatch": FaultKind("material.hash_mismatch", stage="file", target="id_card"),
    "size_mismatch": FaultKind("material.hash_mismatch", stage="file", target="id_card"),
    "duplicate_file": FaultKind("material.duplicate_across_applicants", ("评审",), stage="file",
                                target="achievement"),
    "bomb": FaultKind("material.unsafe", stage="file"),
    "huge_page_count": FaultKind("material.too_many_pages", stage="file"),
    "deep_nesting": FaultKind("material.unsafe", stage="file"),
    "malformed_xref": FaultKind("material.corrupt", stage="file"),
    "truncated": FaultKind("material.corrupt", stage="file"),
    "chsi_not_held": FaultKind("chsi.not_held", REVIEW, stage="chsi"),
    "chsi_mismatch": FaultKind("chsi.mismatch", REVIEW, stage="chsi"),
    "chsi_name_mismatch": FaultKind("chsi.name_mismatch", REVIEW, stage="chsi"),
    "report_expired": FaultKind("chsi.report_expired", REVIEW, stage="chsi"),
    "report_other_person": FaultKind("chsi.report_other_person", REVIEW, stage="chsi"),
    "report_unknown": FaultKind("chsi.report_unknown", REVIEW, stage="chsi"),
    # beyond the list: the rest of the catalogue, so validation can test every check
    "photo_low_resolution": FaultKind("photo.resolution", stage="file", target="photo"),
    "photo_not_image": FaultKind("photo.not_image", stage="file", target="photo"),
    "empty_pdf": FaultKind("material.empty", stage="file"),
    "no_certificate_no": FaultKind("education.no_certificate_no", REVIEW),
    "scan_missing": FaultKind("education.scan_missing", REVIEW),
    "access_missing": FaultKind("access_qualification.missing", ("评审",)),
    "form_missing": FaultKind("annual_assessment.form_missing", REVIEW),
    "summary_too_short": FaultKind("summary.too_short", ("初定",)),
    "summary_blank_lines": FaultKind("summary.many_blank_lines", REVIEW),
    "prior_unknown": FaultKind("reissue.prior_certificate_unknown", ("补办", "换发")),
    # the lifecycle (docs/lifecycle.md): looked up at the province, declared history
    "prior_not_found": FaultKind("reissue.prior_certificate_not_found", ("补办", "换发")),
    "history_incomplete": FaultKind("history.certificate_incomplete", ("历史登记",)),
    "history_held": FaultKind("history.already_held", ("历史登记",)),
    "committee_missing": FaultKind("committee.missing", ("评审",)),
    "region_not_covered": FaultKind("committee.region_not_covered", ("评审",)),
    "report_unreadable": FaultKind("chsi.report_unreadable", REVIEW, stage="chsi"),
    "report_mismatch": FaultKind("chsi.report_mismatch", REVIEW, stage="chsi"),
}
# where a file fault goes when it names no type: a text or scanned PDF that no other
# check reads (the 学信 report would add a report finding)
PREFERRED = ("commitment", "reissue_form", "history_form", "employer_consent", "id_card")


def assign(rng: random.Random, tracks: list[str], rate: float, weights: dict[str, float]) -> dict[int, str]:
    """Application index -> fault kind, for round(rate * n) applications.

    Kinds are dealt round-robin in a seeded order first (every kind appears once there
    are enough faulty applications), then drawn by weight; each goes to an application
    whose track it fits."""
    n = len(tracks)
    count = min(n, round(n * rate))
    kinds = [k for k in weights if k in KINDS and weights[k] > 0]
    rng.shuffle(kinds)
    order = list(range(n))
    rng.shuffle(order)
    free = {t: [i for i in order if tracks[i] == t] for t in ALL}
    out: dict[int, str] = {}
    # the kinds that fit fewest tracks go first, so the small tracks are not used up
    first = sorted(kinds[:count], key=lambda k: len(KINDS[k].tracks))
    pending = first + rng.choices(kinds, [weights[k] for k in kinds], k=max(0, count - len(kinds)))
    for kind in pending:
        fits = [t for t in KINDS[kind].tracks if free.get(t)]
        if not fits:
            continue
        track = rng.choices(fits, [len(free[t]) for t in fits])[0]
        if kind in PAIRED:  # late in the year, so an earlier partner exists
            late = max(free[track])
            free[track].remove(late)
            out[late] = kind
        else:
            out[free[track].pop()] = kind
    return out


def target_of(kind: str, materials: list[Material]) -> Material | None:
    wanted = KINDS[kind].target
    for type_ in ([wanted] if wanted else PREFERRED):
        for m in materials:
            if m.type == type_:
                return m
    return None


def plant_file(kind: str, m: Material, rng: random.Random, dpi: int, low_dpi: int, head: list[str]) -> str | None:
    """Replace or re-declare one material's bytes; returns a detail for the manifest."""
    lines = [*head, m.file_name]
    if kind == "photo_proportions":
        m.data = docs.photo(rng, size=(500, 500))
        return "500x500"
    if kind == "photo_low_resolution":
        m.data = docs.photo(rng, size=(264, 384))
        return "264x384"
    if kind == "photo_not_image":  # the photo printed into a PDF and uploaded as such
        m.data = pw.build([pw.text_page(lines, title="证件照")], title="证件照")
        m.file_name, m.content_type = m.file_name.rsplit(".", 1)[0] + ".pdf", "application/pdf"
        return "PDF"
    if kind == "empty_pdf":
        w = pw.Writer()
        root, pages = w.reserve(), w.add("<</Type/Pages/Count 0/Kids[]>>")
        w.set(root, f"<</Type/Catalog/Pages {pages} 0 R>>")
        m.data = w.serialise(root, file_id=hashlib.md5(head[0].encode() + m.material_id.encode()).digest())
        return "no pages"
    if kind == "oversize":
        captions = [[*lines, f"第{k + 1}页"] for k in range(2)]
        m.data = pw.build([docs.scan_page("form", k, 200, cap, quality=70, noise=True)
                           for k, cap in enumerate(captions)], title=m.file_name)
        return f"{len(m.data) // 1024}KB"
    if kind == "not_pdf":
        if rng.random() < 0.5:
            m.data = docs.scan_image("form", 0, dpi)[0][:-2] + head[0].encode() + b"\xff\xd9"
            return "JPEG image renamed .pdf"
        m.data = b"PK\x03\x04\x14\x00\x06\x00" + hashlib.sha256(head[0].encode()).digest() * 8
        return "Word document (zip) renamed .pdf"
    if kind == "encrypted":
        m.data = pw.encrypted([f"commitment {m.material_id}", head[1]], user_password="123456",
                              file_id=hashlib.md5(head[0].encode()).digest())
        return "RC4 40-bit, user password"
    if kind in ("javascript", "launch_action"):
        m.data = pw.build([pw.text_page(lines)], extra_catalog=pw.ACTIVE[kind.split("_")[0]])
        return kind
    if kind == "embedded_file":
        m.data = pw.with_embedded_file([pw.text_page(lines)], "setup.exe", b"MZ" + head[0].encode())
        return "embedded file setup.exe"
    if kind == "blank_page":
        m.data = pw.build([pw.text_page(lines), pw.Page()], title=m.file_name)
        return "page 2"
    if kind == "low_dpi":
        m.data = pw.build([docs.scan_page("card", 0, low_dpi, lines)], title=m.file_name)
        return f"{low_dpi}dpi"
    if kind == "hash_mismatch":
        m.declared_sha256 = hashlib.sha256(m.data + b"\n").hexdigest()
        return "declared sha256 of other bytes"
    if kind == "size_mismatch":
        m.declared_size = len(m.data) + 1024 * rng.randint(1, 50)
        return "declared size larger than the bytes (upload cut short)"
    if kind == "bomb":
        m.data = pw.bomb(lines)
        return "image stream inflating to 256 MB (16000x16000 px)"
    if kind == "huge_page_count":
        m.data = pw.many_pages(lines)
        return "600 pages"
    if kind == "deep_nesting":
        m.data = pw.deeply_nested(lines)
        return "array nested 20000 deep"
    if kind == "malformed_xref":
        m.data = pw.build([pw.text_page(lines)], break_xref=True)
        return "xref offsets and startxref wrong"
    if kind == "truncated":
        m.data = m.data[: len(m.data) * 3 // 5]
        return "file cut at 60 %"
    raise ValueError(f"not a file fault: {kind}")
