"""Tally and publicity-list speed, against naive baselines measured in the same run.

Tally: a 31-member committee, BENCH_VOTES_APPS applications (default 400), every
present expert voting; ours (one grouping pass) against a naive count that scans all
ballots for each application. List: a publicity list PDF of the same number of rows
(font embedded and subset) against writing the full font into the PDF.
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from zhicheng.domain.tally import Candidate, CastBallot, Expert, Ratio, recusals, tally

APPS = int(os.environ.get("BENCH_VOTES_APPS", "400"))
TWO_THIRDS = Ratio.of([2, 3])


def _data():
    experts = [Expert(f"M{i:02d}", i < 27, employer_name=f"单位{i % 40}") for i in range(31)]
    agenda = [Candidate(f"S{n:05d}", employer_name=f"单位{n % 90}") for n in range(APPS)]
    votes = ("同意", "同意", "不同意", "弃权")
    ballots = [CastBallot(r, "b.csv", e.code, c.key, votes[(r * 7) % 4])
               for r, (e, c) in enumerate(((e, c) for c in agenda for e in experts if e.present), start=2)]
    return experts, agenda, ballots


def _naive(experts, agenda, ballots, recused):
    out = {}
    for c in agenda:
        counting = [e for e in experts if e.present and (e.code, c.key) not in recused]
        yes = sum(1 for b in ballots if b.application == c.key and b.vote == "同意"
                  and any(e.code == b.member for e in counting))
        out[c.key] = yes / max(len(counting), 1) >= 2 / 3
    return out


def _time(fn, repeat=3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> dict:
    experts, agenda, ballots = _data()
    rec = recusals(experts, agenda)
    ours = _time(lambda: tally(members_total=31, experts=experts, agenda=agenda, ballots=ballots,
                               recused=rec, quorum=TWO_THIRDS, pass_ratio=TWO_THIRDS))
    naive = _time(lambda: _naive(experts, agenda, ballots, rec), repeat=1)
    figures = {"applications": APPS, "ballots": len(ballots), "tally_seconds": round(ours, 4),
               "naive_tally_seconds": round(naive, 4), "tally_speedup": round(naive / ours, 1)}
    figures.update(_list_figures())
    return figures


def _list_figures() -> dict:
    import pymupdf as fitz

    from zhicheng.files.cjk_documents import write_pdf
    rows = [[i, f"申报人{i}", f"泰州市第{i % 50}建筑公司", "工程师", "中级", "电气工程"] for i in range(APPS)]
    cols = ["序号", "姓名", "工作单位", "申报资格", "级别", "专业"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "list.pdf"
        ours = _time(lambda: write_pdf(path, title="公示名单", header_lines=["公示期"], columns=cols, rows=rows), 1)
        size = path.stat().st_size
        full = fitz.Font("china-s").buffer
        started = time.perf_counter()
        doc = fitz.open()
        page = doc.new_page()
        page.insert_font(fontname="cn", fontbuffer=full)
        page.insert_text((40, 40), "公示名单", fontname="cn")
        naive_bytes = len(doc.tobytes(deflate=True))
        naive = time.perf_counter() - started
    return {"list_pdf_seconds": round(ours, 3), "list_pdf_bytes": size,
            "full_font_one_page_bytes": naive_bytes, "full_font_one_page_seconds": round(naive, 3),
            "list_size_ratio": round(naive_bytes / size, 1)}
