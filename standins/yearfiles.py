"""Write a built year to its directory (docs/year-directory.md) and read it back."""
from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path
from typing import Any


def _line(doc: Any) -> str:
    return json.dumps(doc, ensure_ascii=False, sort_keys=False, separators=(",", ":")) + "\n"


def material_file(submission_id: str, m: Any) -> str:
    """Where a material's bytes are, relative to the year directory: gzip-compressed, since
    a province's year of generated PDFs is tens of GB as uploaded (100,000 applications,
    37 GB) and about a sixth of it compressed, beside the back office's own copy."""
    return f"materials/{submission_id}/{m.material_id}.{m.ext}.gz"


def write_material(path: Path, data: bytes) -> None:
    # Level 1 and no timestamp: cheap, and the same year gives the same bytes on disk.
    path.write_bytes(gzip.compress(data, compresslevel=1, mtime=0) if path.suffix == ".gz" else data)


def read_material(path: str | Path) -> bytes:
    """A material's bytes as uploaded (a year's `.gz` file, or a stand-in's plain one)."""
    data = Path(path).read_bytes()
    return gzip.decompress(data) if str(path).endswith(".gz") else data


def write_year(out: Path, year: Any) -> dict[str, Any]:
    """JSON lines and manifest (the files were written as the year was built);
    submissions in submission order."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "chsi").mkdir(exist_ok=True)
    apps = sorted(year.apps, key=lambda s: (dt.datetime.fromisoformat(s["sub"]["submitted_at"]),
                                            s["sub"]["submission_id"]))
    total_bytes = n_materials = 0
    with (out / "submissions.jsonl").open("w", encoding="utf-8") as subs, \
            (out / "materials.jsonl").open("w", encoding="utf-8") as mats:
        for state in apps:
            sid = state["sub"]["submission_id"]
            subs.write(_line(state["sub"]))
            for m in state["materials"]:
                mats.write(_line({"submission_id": sid, "material_id": m.material_id,
                                  "path": material_file(sid, m), "content_type": m.content_type}))
                total_bytes += m.size
                n_materials += 1
    with (out / "chsi" / "records.jsonl").open("w", encoding="utf-8") as fh:
        for doc in year.chsi_people.values():
            fh.write(_line(doc))
    with (out / "chsi" / "reports.jsonl").open("w", encoding="utf-8") as fh:
        for doc in year.reports:
            fh.write(_line(doc))
    (out / "province").mkdir(exist_ok=True)
    with (out / "province" / "certificates.jsonl").open("w", encoding="utf-8") as fh:
        for doc in year.province:
            fh.write(_line(doc))
    order = {s["sub"]["submission_id"]: k for k, s in enumerate(apps)}
    faults = sorted(year.faults, key=lambda f: (order[f["submission_id"]], f["material_id"] or "", f["field"] or ""))
    tracks: dict[str, int] = {}
    for state in apps:
        tracks[state["plan"].track] = tracks.get(state["plan"].track, 0) + 1
    manifest = {
        "seed": year.seed, "applications": year.n, "batch_year": year.year,
        # no wall clock: the year is "generated" when its last submission came in
        "generated_at": apps[-1]["sub"]["submitted_at"],
        "counts": {"submissions": len(apps), "materials": n_materials, "bytes": total_bytes,
                   "faults": len(faults), "chsi_people": len(year.chsi_people), "chsi_reports": len(year.reports),
                   "province_certificates": len(year.province),
                   "tracks": tracks},
        "faults": faults,
        "extras": sorted(year.extras, key=lambda e: order[e["submission_id"]]),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return manifest


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
