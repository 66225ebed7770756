"""Results of great-expectations runs as zhicheng reads them: one plain line per
expectation (ours, and a team's own) from a suite's validation result document.

The project the suites run in is expectations.project.
"""
from __future__ import annotations

from typing import Any

from zhicheng.domain.privacy import mask_field


def check_results(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Plain per-check outcome of a suite's result document."""
    out = []
    for r in doc["results"]:
        cfg, res = r["expectation_config"], r.get("result") or {}
        meta = cfg.get("meta") or {}
        ours = meta.get("managed_by") == "zhicheng"
        out.append({"check": meta.get("check") or _team_check_name(cfg),
                    "description": cfg.get("description"), "success": bool(r["success"]),
                    "unexpected_count": res.get("observed_value" if ours else "unexpected_count"),
                    "checked": res.get("element_count"),
                    "rows": (res.get("details") or {}).get("unexpected_rows", []) if ours
                    else _team_rows(cfg, res),
                    "error": _error(r.get("exception_info") or {}), "team": not ours})
    return out


def _team_check_name(cfg: dict[str, Any]) -> str:
    """A team's expectation without meta.check: its type and column, e.g.
    expect_column_values_to_not_be_null(region_code)."""
    column = (cfg.get("kwargs") or {}).get("column")
    return f"{cfg['type']}({column})" if column else cfg["type"]


def _team_rows(cfg: dict[str, Any], res: dict[str, Any]) -> list[dict[str, Any]]:
    # values only if a result format kept them; a personal column's are masked
    column = (cfg.get("kwargs") or {}).get("column") or "value"
    return [{column: mask_field(column, v)} for v in res.get("partial_unexpected_list") or []]


def _error(info: dict[str, Any]) -> str | None:
    """The message of an expectation that could not be evaluated (e.g. its SQL failed).
    great-expectations gives it flat, or per metric that raised."""
    entries = [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]
    for entry in entries:
        if entry.get("raised_exception"):
            return str(entry.get("exception_message") or "error").splitlines()[0][:500]
    return None
