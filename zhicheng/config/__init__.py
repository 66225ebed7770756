"""Load and check config/ once at start-up.

A broken file stops the program with the file, the key and the fault, before any
work starts: a typo in a policy number must never surface halfway through a batch.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator

from zhicheng.config.base import Strict
from zhicheng.config.files import (
    AutomationsFile, CalendarYear, CertificatesFile, ChainsFile, ConnectorsFile, DeploymentsFile,
    EducationFile, FindingsFile, GeneratorFile, MaterialsFile, PublicityFile, RegionsFile, WebFile,
)
from zhicheng.config.policy import ImportLimits, PolicyFile
from zhicheng.domain.findings import Catalogue
from zhicheng.domain.regions import RegionTable
from zhicheng.domain.routes import TIERS, Chains, chains_from_records
from zhicheng.errors import UserError

__all__ = ["Config", "ConfigError", "ImportLimits", "PolicyFile", "UnknownBatchYear", "UnknownCommittee",
           "get_config", "load_config", "require_batch_year", "require_committee"]


class ConfigError(UserError):
    """A config file is missing, unreadable or wrong; the message names file, key and fault."""


class CommitteeConfig(Strict):
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


class TitleOffice(Strict):
    region_code: str = Field(pattern=r"^\d{6}$")
    name: str
    issuer_name: str


class CommitteesFile(Strict):
    committees: list[CommitteeConfig]
    title_offices: list[TitleOffice]


# Every file of config/ and its model. The loader refuses a file not listed here (a
# misspelt name would otherwise be silently ignored); a new file gets its model first.
MODELS: dict[str, type[BaseModel]] = {
    "automations.yaml": AutomationsFile, "certificates.yaml": CertificatesFile,
    "chains.yaml": ChainsFile, "committees.yaml": CommitteesFile, "connectors.yaml": ConnectorsFile,
    "deployments.yaml": DeploymentsFile, "education.yaml": EducationFile,
    "findings.yaml": FindingsFile, "generator.yaml": GeneratorFile, "materials.yaml": MaterialsFile,
    "policy.yaml": PolicyFile, "publicity.yaml": PublicityFile, "regions.yaml": RegionsFile,
    "web.yaml": WebFile,
}


@dataclass(frozen=True)
class Config:
    directory: Path
    chains: Chains
    committees: dict[str, CommitteeConfig]
    title_offices: dict[str, TitleOffice]
    policy: PolicyFile
    findings: Catalogue
    regions: RegionTable
    automations: AutomationsFile
    certificates: CertificatesFile
    connectors: ConnectorsFile
    deployments: DeploymentsFile
    education: EducationFile
    generator: GeneratorFile
    materials: MaterialsFile
    publicity: PublicityFile
    web: WebFile
    calendar: tuple[CalendarYear, ...] = ()   # config/calendar/<year>.yaml, by year


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
        # a misspelt key is both unknown and (its right spelling) missing: name the one
        # the file holds first
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        err = errors[0]
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ConfigError(f"{path}: key {key}: {err['msg']}{more}") from None


def _build(path: Path, what: str, fn, *args) -> Any:
    try:
        return fn(*args)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: {what}: {exc}") from None


def load_config(directory: Path | str) -> Config:
    d = Path(directory)
    raw = {p.name: _read_yaml(p) for p in sorted(d.glob("*.yaml"))}
    unknown = sorted(set(raw) - set(MODELS))
    if unknown:
        raise ConfigError(f"{d / unknown[0]}: not a config file (known: {', '.join(sorted(MODELS))})")
    for required in MODELS:
        if required not in raw:
            raise ConfigError(f"{d / required}: file is missing")
    typed = {name: _model(d / name, model, raw[name]) for name, model in MODELS.items()}
    # chains, findings and regions become domain objects, whose builders check the rest
    # (one end a chain, a known severity, six-digit codes)
    ch = typed["chains.yaml"]
    chains = _build(d / "chains.yaml", "review_chains", chains_from_records,
                    [r.model_dump() for r in ch.review_chains], ch.track_chains, ch.stage_kinds)
    committees, policy = typed["committees.yaml"], typed["policy.yaml"]
    findings = _build(d / "findings.yaml", "findings", Catalogue.from_records,
                      {code: f.model_dump() for code, f in typed["findings.yaml"].findings.items()})
    regions = _build(d / "regions.yaml", "regions", RegionTable.from_records,
                     [r.model_dump() for r in typed["regions.yaml"].regions])
    _check_committees(d / "committees.yaml", committees, policy, regions)
    return Config(d, chains, {c.id: c for c in committees.committees},
                  {o.region_code: o for o in committees.title_offices}, policy, findings, regions,
                  automations=typed["automations.yaml"], certificates=typed["certificates.yaml"],
                  connectors=typed["connectors.yaml"], deployments=typed["deployments.yaml"],
                  education=typed["education.yaml"], generator=typed["generator.yaml"],
                  materials=typed["materials.yaml"], publicity=typed["publicity.yaml"], web=typed["web.yaml"],
                  calendar=_load_calendar(d / "calendar"))


def _load_calendar(d: Path) -> tuple[CalendarYear, ...]:
    years = tuple(_model(p, CalendarYear, _read_yaml(p)) for p in sorted(d.glob("*.yaml")))
    for path, year in zip(sorted(d.glob("*.yaml")), years, strict=True):
        if path.stem != str(year.year):
            raise ConfigError(f"{path}: key year: {year.year} is not the year the file is named for")
    return years


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


class UnknownCommittee(ConfigError):
    """A committee id (评委会编号) that config/committees.yaml does not list."""


def require_committee(config: Config, committee: str | None) -> None:
    """Refuse a committee id committees.yaml does not list (None: every committee): a
    flow given a misspelt id would otherwise find nothing to do and say it is done."""
    if committee is not None and committee not in config.committees:
        raise UnknownCommittee(f"committee {committee!r} is not in config/committees.yaml")


@lru_cache(maxsize=8)
def _cached(directory: str) -> Config:
    return load_config(directory)


def get_config(directory: Path | str | None = None) -> Config:
    """The configuration of this process, loaded once."""
    if directory is None:
        from zhicheng.settings import get_settings
        directory = get_settings().config_dir
    return _cached(str(Path(directory).resolve()))
