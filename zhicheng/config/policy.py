"""config/policy.yaml: the policy numbers of rules.md, typed. Each default is stated
here once; readers use the attributes, never a dict lookup with a fallback."""
from __future__ import annotations

import datetime as dt

from pydantic import Field, field_validator, model_validator

from zhicheng.config.base import Strict


class Period(Strict):
    opens_on: dt.date
    closes_on: dt.date


class Photo(Strict):
    types: list[str]
    width_mm: float = Field(gt=0)
    height_mm: float = Field(gt=0)
    tolerance: float = Field(ge=0)
    min_width_px: int = Field(gt=0)
    min_height_px: int = Field(gt=0)


class InspectLimits(Strict):
    """What inspecting one uploaded file may cost; a hostile file hits them (material.unsafe)."""
    seconds_per_file: float = Field(gt=0)
    memory_mb: int = Field(gt=0)
    max_object_depth: int = Field(gt=0)
    max_image_pixels: int = Field(gt=0)
    worker_cpu_seconds: float = Field(gt=0)   # a worker's lifetime CPU (RLIMIT_CPU)


class Materials(Strict):
    max_attachment_kb: int = Field(gt=0)
    large_attachment_kb: int = Field(gt=0)
    large_types: list[str]
    max_pages: int = Field(gt=0)
    min_scan_dpi: int = Field(gt=0)
    photo: Photo
    inspect_limits: InspectLimits


class WorkSummary(Strict):
    max_chars: int = Field(gt=0)
    warn_below_chars_初定: int = Field(ge=0)
    warn_blank_lines: int = Field(ge=0)


class ContinuingEducation(Strict):
    max_entries: int = Field(gt=0)


class Vote(Strict):
    quorum: tuple[int, int]   # [numerator, denominator], e.g. [2, 3]
    pass_: tuple[int, int] = Field(alias="pass")

    @field_validator("quorum", "pass_")
    @classmethod
    def _ratio(cls, v: tuple[int, int]) -> tuple[int, int]:
        if not 0 < v[0] <= v[1]:
            raise ValueError(f"must be [numerator, denominator] with 0 < numerator <= denominator, got {list(v)}")
        return v


class Publicity(Strict):
    min_working_days: int = Field(ge=1)


class StageTimeLimits(Strict):
    """Days an office has to decide at each kind of stage (chains.yaml stage_kinds)."""
    review: int = Field(ge=1)
    filing: int = Field(ge=1)
    issue: int = Field(ge=1)

    def for_kind(self, kind: str) -> int | None:
        return getattr(self, kind, None) if kind in type(self).model_fields else None


class ImportLimits(Strict):
    """What one staff spreadsheet may hold (policy.yaml `imports`); beyond it the file is
    refused whole, naming the limit."""
    max_file_mb: int = Field(gt=0)
    max_unpacked_mb: int = Field(gt=0)    # XLSX: its parts unpacked (a zip's ratio is unbounded)
    max_rows: int = Field(gt=0)
    max_columns: int = Field(gt=0)
    max_cells: int = Field(gt=0)          # cells holding anything
    header_scan_rows: int = Field(gt=0)   # the header row is looked for in these first rows


class Chunks(Strict):
    """How much one Prefect task does (a chunk commits its own transaction)."""
    intake_page: int = Field(default=200, ge=1)
    validation: int = Field(default=200, ge=1)
    education: int = Field(default=100, ge=1)
    issuance: int = Field(default=250, ge=1)
    push_batch: int = Field(default=500, ge=1, le=500)  # province records per batchUpsert (1..500)
    push_hall: int = Field(default=100, ge=1)
    review: int = Field(default=500, ge=1)
    publicity: int = Field(default=1000, ge=1)   # entries of closed windows settled per task
    quality: int = Field(default=10000, ge=1)
    export: int = Field(default=50000, ge=1)  # rows of a dataset read per fetch (one DataFrame)


class Intake(Strict):
    download_processes: int = Field(default=0, ge=0)   # 0: one a core
    downloads_in_flight: int = Field(default=4, ge=1)


class Quality(Strict):
    concurrent_checks: int = Field(default=0, ge=0)   # checks of a suite run at once; 0: one a core


class Outbox(Strict):
    max_pending_hours: float = Field(default=24, gt=0)
    max_attempts: int = Field(default=8, ge=1)
    hall_requests_in_flight: int = Field(default=4, ge=1)   # a hall chunk's requests at once


class PolicyFile(Strict):
    levels: dict[str, int]
    batches: dict[int, Period]
    declaration_period_tracks: list[str] = ["初定", "评审"]
    materials: Materials
    access_qualification_series: list[str]
    work_summary: WorkSummary
    continuing_education: ContinuingEducation
    assessment_period_years: dict[str, int]
    vote: Vote
    publicity: Publicity
    stage_time_limits_days: StageTimeLimits
    imports: ImportLimits
    chunks: Chunks = Chunks()
    intake: Intake = Intake()
    quality: Quality = Quality()
    outbox: Outbox = Outbox()

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

    @model_validator(mode="after")
    def _levels_known(self) -> PolicyFile:
        unknown = sorted(set(self.assessment_period_years) - set(self.levels))
        if unknown:
            raise ValueError(f"assessment_period_years: unknown level {', '.join(unknown)}")
        return self
