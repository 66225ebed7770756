"""The 申报表: the application as its applicant submitted it, as a PDF for the hall's
downloads (seed 000 chapter 6, 领取: 下载、预览、申报表).

Laid out as the seeds describe the hall's form: the title of the track, then 基本信息,
学历, 继续教育, 考试考核 (年度考核), 工作经历, 工作业绩, 论文论著 and 工作总结, each a
section of label and value lines. It is made from the revision the hall delivered,
kept whole, so it shows what was submitted even when later data changed. It is the
applicant's own form: it carries the whole ID and phone numbers, like the certificate.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any

A4 = (595, 842)
MARGIN, SIZE, HEAD, TITLE, LINE = 48, 10, 12, 18, 16
TITLES = {"评审": "专业技术资格评审申报表", "初定": "专业技术资格初定申报表",
          "补办": "职称证书补办申请表", "换发": "职称证书换发申请表", "历史登记": "历史职称数据登记表"}


def application_form_pdf(payload: Mapping[str, Any], *, submission_id: str, revision: int) -> bytes:
    import pymupdf as fitz
    font = fitz.Font("china-s")
    advance = lru_cache(maxsize=None)(lambda c: font.text_length(c, fontsize=SIZE))
    doc = fitz.open()
    state: dict[str, Any] = {}

    def new_page() -> None:
        if state.get("writer") is not None:
            state["writer"].write_text(state["page"])
        state["page"] = doc.new_page(width=A4[0], height=A4[1])
        state["writer"] = fitz.TextWriter(state["page"].rect)
        state["y"] = MARGIN

    def write(text: str, *, size: float = SIZE, indent: float = 0, gap: float = LINE) -> None:
        width = A4[0] - 2 * MARGIN - indent
        for line in _wrap(advance, text, width, size / SIZE):
            if state["y"] > A4[1] - MARGIN:
                new_page()
            state["writer"].append((MARGIN + indent, state["y"]), line, font=font, fontsize=size)
            state["y"] += gap if size <= SIZE else size + 8

    new_page()
    track = str(payload.get("track") or "评审")
    write(TITLES.get(track, f"{track}申报表"), size=TITLE)
    write(f"办件编号 {submission_id}    第 {revision} 次提交    申报年度 {payload.get('batch_year', '')}"
          f"    提交时间 {payload.get('submitted_at', '')}")
    for heading, lines in _sections(payload):
        state["y"] += 6
        write(heading, size=HEAD)
        for line in lines or ["（无）"]:
            write(line, indent=12)
    state["writer"].write_text(state["page"])
    doc.set_metadata({"title": f"{TITLES.get(track, '申报表')} {submission_id}", "creator": "zhicheng"})
    doc.subset_fonts()
    data = doc.tobytes(garbage=3, deflate=True)
    doc.close()
    return data


def _sections(p: Mapping[str, Any]) -> Iterable[tuple[str, list[str]]]:
    a, e, d = (p.get(k) or {} for k in ("applicant", "employer", "declared"))
    yield "一、基本信息", [f"姓名：{a.get('name', '')}    性别：{a.get('gender', '')}",
                        f"身份证号：{a.get('id_number', '')}    手机：{a.get('phone', '')}",
                        f"工作单位：{e.get('name', '')}（{e.get('nature', '')}，统一社会信用代码 {e.get('uscc', '')}）",
                        f"主管部门：{e.get('supervising_dept') or '无'}    所在地区：{e.get('region_code', '')}"]
    yield "二、拟申报信息", [f"资格名称：{d.get('qualification_name', '')}    级别：{d.get('level', '')}",
                         f"系列：{d.get('series', '')}    专业：{d.get('specialty', '')}",
                         f"申报层级：{d.get('reporting_level', '')}    评审委员会：{d.get('committee_id') or '无'}"]
    if p.get("prior_certificate_no"):
        yield "原证书", [f"原证书编号：{p['prior_certificate_no']}"]
    yield "三、学历学位", _rows(p.get("education"), lambda r: (
        f"{r.get('kind', '')} {r.get('level', '')}：{r.get('school', '')} {r.get('major', '')}，"
        f"{r.get('graduation_date', '')} 毕业，证书编号 {r.get('certificate_no') or '无'}"))
    yield "四、继续教育", _rows(p.get("continuing_education"), lambda r: (
        f"{r.get('year', '')} 年 {r.get('kind', '')}《{r.get('course', '')}》{r.get('hours', '')} 学时，"
        f"{'合格' if r.get('passed') else '不合格'}"))
    yield "五、考试考核（年度考核）", _rows(p.get("annual_assessments"), lambda r: (
        f"{r.get('year', '')} 年度：{r.get('result', '')}"))
    yield "六、工作经历", _rows(p.get("work_history"), lambda r: (
        f"{r.get('start', '')} 至 {r.get('end') or '今'}：{r.get('employer', '')} {r.get('role', '')}"))
    yield "七、工作业绩", _rows(p.get("achievements"), lambda r: (
        f"{r.get('title', '')}（{r.get('role', '')}，排名 {r.get('rank', '')}）"))
    yield "八、论文论著", _rows(p.get("papers"), lambda r: (
        f"《{r.get('title', '')}》，{r.get('venue', '')}，{r.get('published', '')}"))
    summary = str(p.get("work_summary") or "")
    yield "九、专业技术工作总结", [line for line in summary.splitlines() if line.strip()]


def _rows(items: Any, fmt: Callable[[Mapping[str, Any]], str]) -> list[str]:
    return [fmt(r) for r in items if isinstance(r, Mapping)] if isinstance(items, list) else []


def _wrap(advance: Callable[[str], float], text: str, width: float, scale: float) -> list[str]:
    """Lines of `text` that fit `width` (Chinese wraps between any two characters)."""
    lines, line, used = [], "", 0.0
    for c in text:
        w = advance(c) * scale
        if line and used + w > width:
            lines.append(line)
            line, used = "", 0.0
        line += c
        used += w
    return [*lines, line] if line or not lines else lines
