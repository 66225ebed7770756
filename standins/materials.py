"""The materials (申报材料) of one application: which ones, linked from which entries,
and their bytes. Faults are planted afterwards by `faultplan` on the returned list."""
from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zhicheng.standins import documents as docs
from zhicheng.standins.yearfiles import read_material, write_material

PDF = "application/pdf"


@dataclass
class Material:
    material_id: str
    type: str
    file_name: str
    content_type: str
    data: bytes
    declared_size: int | None = None    # set when a fault declares other values than the bytes
    declared_sha256: str | None = None
    # Once written out, the bytes live in the file, not in memory: a large year's files
    # would not fit (10,000 applications are several GB).
    written: Path | None = None
    size: int = 0
    sha256: str = ""

    @property
    def ext(self) -> str:
        return self.file_name.rsplit(".", 1)[-1].lower() if "." in self.file_name else "bin"

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_material(path, self.data)
        self.size, self.sha256 = len(self.data), hashlib.sha256(self.data).hexdigest()
        self.written, self.data = path, b""

    def content(self) -> bytes:
        return read_material(self.written) if self.written else self.data


_SCAN_NAMES = ("扫描全能王 {d}", "{t}", "{t}扫描件", "IMG_{n}", "{name}{t}")


def file_name(rng: random.Random, title: str, name: str, day: str, ext: str = "pdf") -> str:
    pattern = rng.choice(_SCAN_NAMES)
    return pattern.format(d=day, t=title, n=f"{rng.randrange(10**7):07d}", name=name) + "." + ext


class Builder:
    """Collects the materials of one submission, numbering them M01, M02, ..."""

    def __init__(self, sub: dict[str, Any], rng: random.Random, dpi: int) -> None:
        self.sub, self.rng, self.dpi = sub, rng, dpi
        self.items: list[Material] = []
        a = sub["applicant"]
        self.head = [f"{a['name']}  公民身份号码：{a['id_number']}", f"申报编号：{sub['submission_id']}"]
        self.day = sub["submitted_at"][:10]

    def add(self, type_: str, title: str, data: bytes, ext: str = "pdf", content_type: str = PDF) -> str:
        mid = f"M{len(self.items) + 1:02d}"
        name = file_name(self.rng, title, self.sub["applicant"]["name"], self.day, ext)
        self.items.append(Material(mid, type_, name, content_type, data))
        return mid

    def scan(self, type_: str, title: str, kind: str, lines: list[str], pages: int = 1) -> str:
        captions = [[title, *self.head, *lines]] + [[title, *self.head, f"第{k + 2}页"] for k in range(pages - 1)]
        variant = self.rng.randrange(3)
        return self.add(type_, title, docs.scan_pdf(kind, variant, self.dpi, captions, title))

    def text(self, type_: str, title: str, lines: list[str]) -> str:
        return self.add(type_, title, docs.text_pdf(title, [*self.head, "", *lines]))


def build_materials(sub: dict[str, Any], ctx: dict[str, Any], rng: random.Random, dpi: int) -> list[Material]:
    """Make every material the submission needs and link it from its entries."""
    b = Builder(sub, rng, dpi)
    a, e, d = sub["applicant"], sub["employer"], sub["declared"]
    b.scan("id_card", "身份证正反面", "card", [f"性别：{a['gender']}", "签发机关：公安局"])
    b.add("photo", "证件照", docs.photo(rng), ext="jpg", content_type="image/jpeg")
    for entry in sub["education"]:
        if not entry["chsi_fetched"]:
            title = "学历证书" if entry["kind"] == "学历" else "学位证书"
            entry["material_id"] = b.scan("diploma" if entry["kind"] == "学历" else "degree", title, "certificate",
                                          [f"{entry['school']} {entry['major']} {entry['level']}",
                                           f"证书编号：{entry['certificate_no']}",
                                           f"毕业日期：{entry['graduation_date']}"])
    if ctx.get("report") is not None and ctx.get("report_scanned"):  # a scan has no text to read
        b.scan("chsi_report", "教育部学历证书电子注册备案表", "form", [])
    elif ctx.get("report") is not None:
        b.add("chsi_report", "教育部学历证书电子注册备案表", report_pdf(ctx["report"]))
    track = sub["track"]
    if track in ("初定", "评审"):
        _review_materials(b, sub, ctx)
    elif track in ("补办", "换发"):
        b.scan("old_certificate", "原证书", "certificate", [f"原证书编号：{sub['prior_certificate_no']}"])
        b.text("void_notice", "证书作废登报声明",
               [f"本人{a['name']}遗失{d['qualification_name']}资格证书一本，证书编号{sub['prior_certificate_no']}，",
                "特此声明作废。", f"登报日期：{sub['submitted_at'][:10]}  江苏工人报"])
        b.text("reissue_form", f"职称证书{track}申请表",
               [f"姓名：{a['name']}  工作单位：{e['name']}", f"资格名称：{d['qualification_name']}",
                f"{track}原因：{'证书遗失' if track == '补办' else '纸质证书换发电子证书'}",
                "申请人签字：          单位盖章："])
    else:
        kinds = ctx.get("history_kinds") or ["history_form", "old_certificate", "history_approval"]
        for kind in kinds:
            if kind == "history_form":
                b.text(kind, "历史申报表", [f"申报资格：{d['qualification_name']}", f"工作单位：{e['name']}"])
            elif kind == "old_certificate":
                b.scan(kind, "原证书", "certificate", [f"资格名称：{d['qualification_name']}"])
            else:
                b.scan(kind, "历史批文", "form", [f"关于同意{a['name']}等同志具备{d['qualification_name']}资格的批复"])
    return b.items


def _review_materials(b: Builder, sub: dict[str, Any], ctx: dict[str, Any]) -> None:
    a, e, d = sub["applicant"], sub["employer"], sub["declared"]
    b.text("commitment", "个人诚信承诺书",
           ["本人郑重承诺：所提交的申报材料真实、准确、完整，",
            "如有弄虚作假，自愿承担相应责任，接受取消申报资格等处理。",
            f"承诺人：{a['name']}", f"日期：{sub['submitted_at'][:10]}"])
    b.scan("employer_consent", "单位同意申报证明", "form",
           [f"兹有我单位{a['name']}同志申报{d['qualification_name']}，", "经单位公示无异议，同意申报。", e["name"]])
    ce = sub["continuing_education"]
    if ce:
        mid = b.text("continuing_education", "继续教育合格证明",
                     [f"{c['year']}年 {c['kind']} {c['course']} {c['hours']}学时 合格" for c in ce])
        for c in ce:
            c["material_id"] = mid
    if e.get("public_institution_staff"):
        for entry in sub["annual_assessments"]:
            entry["material_id"] = b.scan("annual_assessment", f"{entry['year']}年度事业单位工作人员年度考核登记表",
                                          "form", [f"考核年度：{entry['year']}", f"考核结果：{entry['result']}"])
    if d["series"] in ctx["access_series"]:
        b.scan("access_qualification", "准入资格证明", "certificate", [f"{ctx['access_name']}  持证人：{a['name']}"])
    if b.rng.random() < 0.3:
        b.text("social_insurance", "社保缴费证明", [f"参保单位：{e['name']}", "缴费状态：正常缴费"])
    for ach in sub["achievements"]:
        ach["material_id"] = b.add("achievement", "业绩材料", docs.pw.build([
            docs.pw.text_page([*b.head, ach["title"], f"本人角色：{ach['role']}  排名：{ach['rank']}",
                               *docs.wrap(ctx["summary_excerpt"])], title="业绩证明材料"),
            docs.scan_page("form", b.rng.randrange(3), b.dpi, ["项目验收意见", *b.head])], title="业绩材料"))
    for paper in sub["papers"]:
        body = docs.wrap(ctx["summary_excerpt"] * 2)
        paper["material_id"] = b.add("paper", "论文", docs.text_pdf(paper["title"], [
            f"作者：{a['name']}（{e['name']}）", f"发表于《{paper['venue']}》 {paper['published']}", "", *body]))
    if sub["achievements"] and b.rng.random() < 0.25:
        b.scan("award", "获奖证书", "certificate", [f"{sub['achievements'][0]['title']} 获{e['name'][:2]}科技进步奖"])


def report_pdf(report: dict[str, Any]) -> bytes:
    """《教育部学历证书电子注册备案表》 as 学信网 prints it, online code in the text."""
    r = report["record"]
    lines = [f"更新日期：{report['printed_on']}", "", f"姓名：{report['name']}    性别：{report['gender']}",
             f"证件号码：{report['id_number']}", f"入学日期：{r['enrollment_date'] or ''}",
             f"毕（结）业日期：{r['graduation_date']}", f"学校名称：{r['school']}", f"专业：{r['major']}",
             f"层次：{r['level']}    学历类别：普通高等教育    学习形式：{r['study_form']}",
             f"毕（结）业：毕业    证书编号：{r['certificate_no']}", "",
             f"在线验证码：{report['online_code']}", f"本备案表有效期至：{report['valid_until']}",
             "说明：本表可通过学信网在线验证码进行验证，有效期内可验证。"]
    return docs.text_pdf("教育部学历证书电子注册备案表", lines)
