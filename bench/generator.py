"""Synthetic-year generator throughput: applications/s and MB/s, against a naive baseline
measured in the same run.

Baseline: the files made one by one with PyMuPDF (a page with the built-in china-s font
and a scanned image inserted, `tobytes()`), which is what the generator would cost
without its template pool and its own PDF writer; the ratio compares files a second.

Environment: BENCH_GENERATOR_COUNT (default 1000), BENCH_GENERATOR_BASELINE (default 200).
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

COUNT = int(os.environ.get("BENCH_GENERATOR_COUNT", "1000"))
BASELINE_N = int(os.environ.get("BENCH_GENERATOR_BASELINE", "200"))


def _baseline_files_per_second() -> float:
    import pymupdf

    from zhicheng.standins.documents import scan_image
    jpeg = scan_image("form", 0, 150)[0]
    lines = "\n".join(f"申报人张三 第{k}行 公民身份号码 320102199001011234" for k in range(20))
    started = time.perf_counter()
    for i in range(BASELINE_N):
        doc = pymupdf.open()
        page = doc.new_page(width=595, height=842)
        if i % 2:
            page.insert_image(page.rect, stream=jpeg)
        page.insert_text((60, 60), lines, fontname="china-s", fontsize=10)
        doc.tobytes(deflate=True)
    return BASELINE_N / (time.perf_counter() - started)


def main() -> dict:
    from zhicheng.standins.generator import generate
    tmp = Path(tempfile.mkdtemp(prefix="bench-generator-"))
    try:
        started = time.perf_counter()
        manifest = generate(tmp / "year", applications=COUNT, seed=7)
        seconds = time.perf_counter() - started
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    counts = manifest["counts"]
    files_per_s = counts["materials"] / seconds
    baseline = _baseline_files_per_second()
    return {
        "applications": COUNT,
        "seconds": round(seconds, 2),
        "applications_per_s": round(COUNT / seconds, 1),
        "files": counts["materials"],
        "files_per_s": round(files_per_s, 1),
        "megabytes": round(counts["bytes"] / 1e6, 1),
        "mb_per_s": round(counts["bytes"] / 1e6 / seconds, 1),
        "planted_faults": counts["faults"],
        "baseline_pymupdf_files_per_s": round(baseline, 1),
        "ratio_files_per_s_vs_baseline": round(files_per_s / baseline, 2),
    }
