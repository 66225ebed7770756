"""The models of config/ other than policy.yaml: one per file, each default stated here
once. The feature that reads a file is named in its docstring; a new key goes into the
model first (docs/architecture.md, "Configuration")."""
from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field, model_validator

from zhicheng.config.base import Strict

# -- automations.yaml (zhicheng.automations) ----------------------------------------------


class When(Strict):
    attention: str | None = None   # a stage: zhicheng.<stage>.needs-attention
    failed: str | None = None      # a flow name: a run of it ended Failed or Crashed

    @model_validator(mode="after")
    def _one(self) -> When:
        if (self.attention is None) == (self.failed is None):
            raise ValueError("`when` needs exactly one of attention: <stage> or failed: <flow>")
        return self


class Automation(Strict):
    name: str
    description: str
    when: When


class AutomationsFile(Strict):
    notify_url_env: str = "ZHICHENG_NOTIFY_URL"
    webhook_block: str = "zhicheng-notify"
    automations: list[Automation] = []


# -- chains.yaml, findings.yaml, regions.yaml (built into domain objects by the loader) ---


class ReviewChain(Strict):
    tier: str
    reporting: str
    delegated: bool
    seed: str            # the line of the seed list it copies
    stages: list[str]


class ChainsFile(Strict):
    review_chains: list[ReviewChain]
    track_chains: dict[str, list[str]]   # track -> stages, for tracks no committee reviews
    stage_kinds: dict[str, str]          # stage -> kind (submission, review, publicity...)


class FindingText(Strict):
    severity: str
    message: str


class FindingsFile(Strict):
    findings: dict[str, FindingText]


class RegionRecord(Strict):
    code: str
    name: str


class RegionsFile(Strict):
    regions: list[RegionRecord]


# -- certificates.yaml (zhicheng.issuance) ------------------------------------------------

Color = tuple[float, float, float]


class Keys(Strict):
    auto_generate: bool = False


class Box(Strict):
    x: float
    y: float
    width: float
    height: float


class Page(Strict):
    width: float
    height: float


class Colors(Strict):
    frame: Color
    text: Color
    label: Color


class Frame(Strict):
    margin: float
    inner_gap: float
    width_outer: float
    width_inner: float


class Line(Strict):
    text: str
    y: float
    size: float


class Fields(Strict):
    x_label: float
    x_value: float
    y: float
    line: float
    size: float
    value_width: float


class QR(Strict):
    x: float
    y: float
    size: float
    mask_pattern: int = Field(ge=0, le=7)
    caption: str


class Issuer(Strict):
    right: float
    y: float
    size: float


class Footer(Strict):
    y: float
    size: float


class Layout(Strict):
    page: Page
    colors: Colors
    frame: Frame
    title: Line
    subtitle: Line
    photo: Box
    fields: Fields
    qr: QR
    issuer: Issuer
    footer: Footer


class CertificatesFile(Strict):
    verification_url: str
    storage_dir: str = "certificates"
    orphan_grace_minutes: float = Field(default=30, ge=0)
    render_processes: int = Field(default=0, ge=0)   # 0: one a core
    keys: Keys = Keys()
    layout: Layout
    fields: list[tuple[str, str]]   # (label, certificate attribute) in print order
    footer: str                     # {url}: verification_url


# -- connectors.yaml (zhicheng.connectors.setup) ------------------------------------------


class ConnectorPolicy(Strict):
    """How one system is talked to; every key may be left out of a system's section
    (the `defaults` section fills it)."""
    connect_timeout_seconds: float | None = Field(default=None, gt=0)
    read_timeout_seconds: float | None = Field(default=None, gt=0)
    max_attempts: int | None = Field(default=None, ge=1)
    backoff_base_seconds: float | None = Field(default=None, ge=0)
    backoff_cap_seconds: float | None = Field(default=None, ge=0)
    max_429_waits: int | None = Field(default=None, ge=0)
    max_retry_after_seconds: float | None = Field(default=None, ge=0)
    pool_size: int | None = Field(default=None, ge=1)
    rate_per_second: float | None = Field(default=None, gt=0)   # null: no client-side limit
    max_answer_mb: float | None = Field(default=None, gt=0)
    max_json_depth: int | None = Field(default=None, ge=1)

    def given(self) -> dict[str, Any]:
        """The keys the file states (a stated null rate is kept: it means no limit)."""
        return self.model_dump(exclude_unset=True)


class ConnectorsFile(Strict):
    defaults: ConnectorPolicy = ConnectorPolicy()
    systems: dict[Literal["hall", "chsi", "province"], ConnectorPolicy] = {}

    def policy_of(self, system: str) -> dict[str, object]:
        """The file's keys for one system: its defaults, then its own section."""
        own = self.systems.get(system)  # type: ignore[call-overload]
        return {**self.defaults.given(), **(own.given() if own else {})}


# -- deployments.yaml (zhicheng.deployments) ----------------------------------------------


class Deployment(Strict):
    name: str
    flow: str                     # module path of the flow function
    description: str
    stage: str = ""               # tags the deployment and its runs in the Prefect UI
    cron: str | None = None
    every_minutes: int | None = Field(default=None, ge=1)
    during: Literal["declaration_period"] | None = None
    concurrency: int | None = Field(default=None, ge=1)
    parameters: dict[str, object] = {}

    @model_validator(mode="after")
    def _during(self) -> Deployment:
        if self.during is not None and self.every_minutes is None:
            raise ValueError(f"during: {self.during} needs every_minutes")
        return self


class DeploymentsFile(Strict):
    work_pool: str
    timezone: str
    deployments: list[Deployment]


# -- education.yaml (zhicheng.education) --------------------------------------------------


class EducationFile(Strict):
    answer_max_age_days: float = Field(default=30, gt=0)   # a younger 学信 answer is reused
    max_concurrency: int = Field(default=4, ge=1)          # requests to 学信 in flight at once


# -- generator.yaml (zhicheng.standins.generator; dev only) ------------------------------


class Generator(Strict):
    default_batch_year: int
    tracks: dict[str, float]
    initial_levels: dict[str, float]
    initial_series: dict[str, list[str]]
    fault_rate: float = Field(ge=0, le=1)
    faults: dict[str, float]
    extra_fields_rate: float = Field(ge=0, le=1)
    chsi_fetched_rate: float = Field(ge=0, le=1)
    public_staff_rate: float = Field(ge=0, le=1)
    applications_per_employer: float = Field(gt=0)
    scan_dpi: int = Field(gt=0)
    low_scan_dpi: int = Field(gt=0)


class GeneratorFile(Strict):
    generator: Generator


# -- materials.yaml (zhicheng.validation, zhicheng.files) ---------------------------------


class AtLeast(Strict):
    count: int = Field(ge=1)
    of: list[str]


class Required(Strict):
    all: list[str] = []
    at_least: AtLeast | None = None


class MaterialsFile(Strict):
    material_types: dict[str, str]          # hall code -> name an applicant reads
    required_materials: dict[str, Required]  # track -> what it must carry
    scan_min_page_share: float = Field(default=0.5, gt=0, le=1)

    @model_validator(mode="after")
    def _known_types(self) -> MaterialsFile:
        for track, req in self.required_materials.items():
            named = req.all + (req.at_least.of if req.at_least else [])
            unknown = [t for t in named if t not in self.material_types]
            if unknown:
                raise ValueError(f"required_materials.{track}: unknown material type {', '.join(unknown)}")
        return self


# -- publicity.yaml (zhicheng.publicity, zhicheng.votes) ----------------------------------


class PublicityFile(Strict):
    list_folder: str = "publicity"                       # under ZHICHENG_HOME
    report_folder: str = "votes"                         # under ZHICHENG_HOME


# -- web.yaml (zhicheng.web) --------------------------------------------------------------


class Guesses(Strict):
    """Left out: zhicheng.domain.verification.GuessPolicy's default."""
    free_failures: int | None = Field(default=None, ge=0)
    window_seconds: float | None = Field(default=None, gt=0)
    first_delay_seconds: float | None = Field(default=None, ge=0)
    max_delay_seconds: float | None = Field(default=None, ge=0)

    def given(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class WebFile(Strict):
    downloads_url: str = ""   # empty: the issued notification carries no download addresses
    guesses: Guesses = Guesses()
    upload_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1)
    session_minutes: int = Field(default=480, ge=1)
    search_limit: int = Field(default=500, ge=1)
    status_labels: dict[str, str] = {}    # a status not listed is shown as itself, never valid
    outcome_labels: dict[str, str] = {}


# -- calendar/<year>.yaml (zhicheng.workspace.working_calendar) ---------------------------


class CalendarYear(Strict):
    """One year's holiday arrangement, for a year chinese-calendar does not know yet."""
    year: int
    source: str                    # the State Council notice it copies
    holidays: list[dt.date] = []   # every day off, weekend days inside a holiday included
    workdays: list[dt.date] = []   # weekend days that are working days (调休上班)
