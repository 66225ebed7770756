"""The stand-ins' own cost as their tables fill (issue 25).

At 100,000 applications the stand-ins' CPU grew 37x to 52x the 10,000 run's in
publicity and the year-end, for ten times the work: bench/cycle charges a stand-in
that slows as it fills to the stages that talk to it. Two costs were found and fixed
(the hall numbered a notice by counting its table; the province sorted a scope, bodies
and all, for every page); this bench keeps them flat.

- the hall: CPU of a notice (`post_notification`, as a request reaches it) over a
  block of BLOCK notices, with the table empty and then holding each of SIZES notices
  (filled with bare INSERTs, rows as the handler writes them). Figures: per-notice
  milliseconds, and each block's as a ratio to the empty table's (flat: near 1).
- the province: CPU of a reconcile's pages (`list_certificates` of one issuer and year,
  1,000 a page, every page) at scopes of SCOPES certificates, per certificate listed;
  each as a ratio to the smallest scope's. The contract pages by number (page,
  page_size), so a page skips the ones before it: the ratio grows a little with the
  scope, by design of the contract.

The handlers are called in this process, without HTTP: a request's way through the
server costs the same whatever the tables hold. CPU time (time.process_time).
Environment: BENCH_STANDINS_SIZES (default 100000,200000), BENCH_STANDINS_SCOPES
(default 2000,20000).
"""
from __future__ import annotations

import json
import os
import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

BLOCK = 5_000
PAGE = 1_000
SIZES = [int(n) for n in os.environ.get("BENCH_STANDINS_SIZES", "100000,200000").split(",")]
SCOPES = [int(n) for n in os.environ.get("BENCH_STANDINS_SCOPES", "2000,20000").split(",")]


def main() -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="bench-standins-"))
    try:
        return {"hall_notices": _hall(work), "province_pages": _province(work),
                "block": BLOCK, "page_size": PAGE}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _request(method: str, body: Any = None, **query: str) -> Any:
    from zhicheng.standins.server import Request
    return Request(method=method, target="/", path="/", query={k: [v] for k, v in query.items()},
                   headers={}, body=json.dumps(body, ensure_ascii=False).encode() if body is not None else b"")


def _notice(i: int) -> dict[str, Any]:
    return {"id_number": f"3201021990{i % 10**8:08d}", "template": "publicity", "idempotency_key": f"bench-{i}",
            "params": {"name": "申报人", "submission_id": f"SUB-{i:08d}", "window": str(i % 40)}}


def _hall(work: Path) -> list[dict[str, Any]]:
    from zhicheng.standins.hall import Hall
    hall = Hall(state_path=work / "hall.sqlite", secrets={})
    rows, filled = [], 0
    for size in [0, *SIZES]:
        _fill_notices(hall, filled, size)
        filled = size
        started = time.process_time()
        for i in range(BLOCK):
            hall.post_notification(_request("POST", _notice(10**9 + size + i)))
        per = (time.process_time() - started) / BLOCK
        filled += BLOCK
        rows.append({"notices_before": size, "ms_a_notice": round(per * 1000, 4)})
    for r in rows:
        r["ratio_to_empty"] = round(r["ms_a_notice"] / rows[0]["ms_a_notice"], 2)
    return rows


def _fill_notices(hall: Any, start: int, size: int) -> None:
    """Notices start..size, as the handler writes them, in one bare transaction."""
    now = "2026-12-28T20:00:00+08:00"
    with hall.store.tx() as db:
        have = db.execute("SELECT count(*) FROM notifications").fetchone()[0]
        for lo in range(have, size, 10_000):
            batch = [_notice(i) for i in range(lo, min(size, lo + 10_000))]
            db.executemany("INSERT INTO notifications VALUES (?, ?, ?, ?, ?, ?)",
                           [(f"NTF{lo + k + 1:08d}", n["idempotency_key"], n["id_number"], n["template"],
                             json.dumps(n, ensure_ascii=False), now) for k, n in enumerate(batch)])
            db.executemany("INSERT INTO sms (kind, ref_id, phone, text, sent_at) VALUES (?, ?, ?, ?, ?)",
                           [("notification", f"NTF{lo + k + 1:08d}", None, "职称申报通知", now)
                            for k in range(len(batch))])


def _province(work: Path) -> list[dict[str, Any]]:
    from zhicheng.standins.province import Province
    rows = []
    for scope in SCOPES:
        province = Province(state_path=work / f"province-{scope}.sqlite", secrets={})
        _fill_certificates(province, scope)
        started = time.process_time()
        listed, page = 0, 1
        while True:
            got = province.list_certificates(_request("GET", issuer_region_code="320100", year="2026",
                                                      page=str(page), page_size=str(PAGE))).body
            listed += len(got["items"])
            if listed >= got["total"] or not got["items"]:
                break
            page += 1
        per = (time.process_time() - started) / listed
        rows.append({"scope": scope, "pages": page, "ms_a_certificate": round(per * 1000, 4)})
    for r in rows:
        r["ratio_to_smallest"] = round(r["ms_a_certificate"] / rows[0]["ms_a_certificate"], 2)
    return rows


def _fill_certificates(province: Any, scope: int) -> None:
    """`scope` certificates of issuer 320100 in 2026 and as many of other issuers and
    years beside them, in random order (as several runs' pushes interleave)."""
    order = list(range(2 * scope))
    random.Random(scope).shuffle(order)
    with province.store.tx() as db:
        db.executemany("INSERT INTO certificates VALUES (?, 1, ?, ?, ?, 1)", [_certificate(i, scope) for i in order])


def _certificate(i: int, scope: int) -> tuple[str, str, int, str]:
    region, year = ("320100", 2026) if i < scope else (("320200", 2026) if i % 2 else ("320100", 2025))
    no = f"{region}{year}2{i:06d}"
    body = {"certificate_no": no, "version": 1, "issuer_region_code": region, "issued_on": f"{year}-12-28",
            "holder_name": "申报人", "id_number_hash": "0" * 64, "qualification_name": "工程师",
            "specialty": "电气工程", "level": "中级", "issuer_name": "南京市人力资源和社会保障局",
            "document_sha256": "f" * 64, "status": "valid"}
    return no, region, year, json.dumps(body, ensure_ascii=False)
