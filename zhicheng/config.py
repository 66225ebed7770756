"""Load and check config/ once at start-up.

A broken file stops the program with the file, the key and the fault, before any
work starts: a typo in a policy number must never surface halfway through a batch.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from zhicheng.domain.findings import Catalogue
from zhicheng.domain.routes import TIERS, Chains, chains_from_records
from zhicheng.errors import UserError


class ConfigError(UserError):
    """A config file is missing, unreadable or wrong; the message names file, key and fault."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CommitteeConfig(_Strict):
    id: str
    name: str
    tier: str
    region_code: str = Field(pattern=r"^\d{6}$")
    delegated: bool
    issuer_name: str
    series: str
    specialties: list[str]
    levels: list[str]
    covered_regions: list[str]
    open_years: list[int]
    members: int = Field(gt=0)

    @field_validator("tier")
    @classmethod
    def _tier(cls, v: str) -> str:
        if v not in TIERS:
            raise ValueError(f"tier must be one of {', '.join(TIERS)}")
        return v

    @field_validator("members")
    @classmethod
    def _odd(cls, v: int) -> int:
        if v % 2 == 0:
            raise ValueError("a committee has an odd number of members")
        return v


class TitleOffice(_Strict):
    region_code: str = Field(pattern=r"^\d{6}$")
    name: str
    issuer_name: str


class CommitteesFile(_Strict):
    committees: list[CommitteeConfig]
    title_offices: list[TitleOffice]


class Period(_Strict):
    opens_on: dt.date
    closes_on: dt.date


class ImportLimits(_Strict):
    """What one staff spreadsheet may hold (policy.yaml `imports`); beyond it the file is
    refused whole, naming the limit."""
    max_file_mb: int = Field(gt=0)
    max_unpacked_mb: int = Field(gt=0)    # XLSX: its parts unpacked (a zip's ratio is unbounded)
    max_rows: int = Field(gt=0)
    max_columns: int = Field(gt=0)
    max_cells: int = Field(gt=0)          # cells holding anything
    header_scan_rows: int = Field(gt=0)   # the header row is looked for in these first rows


class PolicyFile(BaseModel):
    # Policy is read by many features; unknown keys are allowed so that a feature's
    # numbers can be added without touching this loader, but the core ones are typed.
    model_config = ConfigDict(extra="allow", frozen=True)
    levels: dict[str, int]
    batches: dict[int, Period]
    materials: dict[str, Any]
    access_qualification_series: list[str]
    work_summary: dict[str, int]
    continuing_education: dict[str, int]
    assessment_period_years: dict[str, int]
    vote: dict[str, list[int]]
    publicity: dict[str, int]
    stage_time_limits_days: dict[str, int]
    chunks: dict[str, int]
    imports: ImportLimits

    # The numbers below are read deep inside a run (a tally, a window, a certificate
    # number); checked here so a typo stops the start, not a session's count.
    @field_validator("levels")
    @classmethod
    def _level_digits(cls, v: dict[str, int]) -> dict[str, int]:
        bad = [f"{k}: {d}" for k, d in v.items() if not 0 <= d <= 9]
        if bad:
            raise ValueError(f"a level digit is one digit 0-9 (certificate numbers): {', '.join(bad)}")
        if len(set(v.values())) != len(v):
            raise ValueError("two levels share a digit; certificate numbers would not tell them apart")
        return v

    @field_validator("vote")
    @classmethod
    def _vote_ratios(cls, v: dict[str, list[int]]) -> dict[str, list[int]]:
        for name in ("quorum", "pass"):
            ratio = v.get(name)
            if ratio is None:
                raise ValueError(f"{name} is missing (a ratio [numerator, denominator], e.g. [2, 3])")
            if len(ratio) != 2 or not 0 < ratio[0] <= ratio[1]:
                raise ValueError(f"{name} must be [numerator, denominator] with 0 < numerator <= "
                                 f"denominator, got {ratio}")
        return v

    @field_validator("publicity", "chunks", "stage_time_limits_days")
    @classmethod
    def _positive(cls, v: dict[str, int], info) -> dict[str, int]:
        bad = [f"{k}: {n}" for k, n in v.items() if n < 1]
        if bad:
            raise ValueError(f"must be at least 1: {', '.join(bad)}")
        if info.field_name == "publicity" and "min_working_days" not in v:
            raise ValueError("min_working_days is missing")
        return v


@dataclass(frozen=True)
class Config:
    directory: Path
    chains: Chains
    committees: dict[str, CommitteeConfig]
    title_offices: dict[str, TitleOffice]
    policy: PolicyFile
    findings: Catalogue
    regions: Any        # zhicheng.domain.regions.RegionTable
    raw: dict[str, Any]  # every file as loaded, by file name, for features' own sections


def _read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file is missing") from None
    except yaml.YAMLError as exc:
        # one line: where (line, column, as an editor counts them) and what; PyYAML's own
        # text repeats the path over several lines
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = " ".join(str(getattr(exc, "problem", None) or exc).split())
        raise ConfigError(f"{path}: not valid YAML{where}: {what}") from None


def _model(path: Path, model: type[BaseModel], data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        raise ConfigError(f"{path}: key {key}: {err['msg']}{more}") from None


def _build(path: Path, what: str, fn, *args) -> Any:
    try:
        return fn(*args)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: {what}: {exc}") from None


def load_config(directory: Path | str) -> Config:
    d = Path(directory)
    raw = {p.name: _read_yaml(p) for p in sorted(d.glob("*.yaml"))}
    for required in ("chains.yaml", "committees.yaml", "policy.yaml", "findings.yaml", "regions.yaml"):
        if required not in raw:
            raise ConfigError(f"{d / required}: file is missing")
    ch = raw["chains.yaml"] or {}
    chains = _build(d / "chains.yaml", "review_chains", chains_from_records,
                    ch.get("review_chains", []), ch.get("track_chains", {}), ch.get("stage_kinds", {}))
    committees = _model(d / "committees.yaml", CommitteesFile, raw["committees.yaml"])
    policy = _model(d / "policy.yaml", PolicyFile, raw["policy.yaml"])
    findings = _build(d / "findings.yaml", "findings", Catalogue.from_records,
                      (raw["findings.yaml"] or {}).get("findings", {}))
    regions = _load_regions(d / "regions.yaml", raw["regions.yaml"])
    _check_committees(d / "committees.yaml", committees, policy, regions)
    return Config(d, chains, {c.id: c for c in committees.committees},
                  {o.region_code: o for o in committees.title_offices}, policy, findings, regions, raw)


def _load_regions(path: Path, data: Any) -> Any:
    from zhicheng.domain.regions import RegionTable
    records = (data or {}).get("regions") if isinstance(data, dict) else data
    return _build(path, "regions", RegionTable.from_records, records or [])


def _check_committees(path: Path, f: CommitteesFile, policy: PolicyFile, regions: Any) -> None:
    seen: set[str] = set()
    for i, c in enumerate(f.committees):
        where = f"{path}: key committees.{i} ({c.id})"
        if c.id in seen:
            raise ConfigError(f"{where}: duplicate committee id")
        seen.add(c.id)
        bad_levels = [lv for lv in c.levels if lv not in policy.levels]
        if bad_levels:
            raise ConfigError(f"{where}.levels: unknown level {', '.join(bad_levels)}")
        for code in [c.region_code, *c.covered_regions]:
            if not regions.is_known(code):
                raise ConfigError(f"{where}: unknown region code {code}")


class UnknownBatchYear(ConfigError):
    """A batch year (申报年度) that config/policy.yaml has no batch for."""


def require_batch_year(config: Config, year: int | None) -> None:
    """Refuse a batch year policy.yaml has no batch for (None: every year). The command
    line and the flows both ask here, so a typo is refused rather than run on nothing."""
    if year is not None and year not in config.policy.batches:
        known = ", ".join(map(str, sorted(config.policy.batches))) or "none"
        raise UnknownBatchYear(f"batch year (申报年度) {year} is not in {config.directory / 'policy.yaml'} "
                               f"batches (known: {known}); add its declaration period there first")


@lru_cache(maxsize=8)
def _cached(directory: str) -> Config:
    return load_config(directory)


def get_config(directory: Path | str | None = None) -> Config:
    """The configuration of this process, loaded once."""
    if directory is None:
        from zhicheng.settings import get_settings
        directory = get_settings().config_dir
    return _cached(str(Path(directory).resolve()))
