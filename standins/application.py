"""One application's plan and data (the Submission of external-systems.md §1, no files)."""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from zhicheng.standins import applicants as ap
from zhicheng.standins import vocab

TZ = dt.timezone(dt.timedelta(hours=8))


@dataclass
class YearContext:
    """What every application of the year draws on."""
    config: Any
    gen: Any                 # zhicheng.config.files.Generator
    year: int
    opens: dt.date
    closes: dt.date
    committees: list[Any]        # open in the batch year
    cities: list[str]            # Jiangsu city codes
    counties: list[str]          # Jiangsu district and county codes
    combos: list[tuple[str, str, str]]  # (series, specialty, level) of any track

    def qualification(self, series: str, specialty: str, level: str) -> str | None:
        table = vocab.QUALIFICATIONS.get(specialty) or vocab.QUALIFICATIONS.get(series) or {}
        return table.get(level)


def year_context(config: Any, gen: Any, year: int) -> YearContext:
    if year not in config.policy.batches:
        raise ValueError(f"batch year {year} has no declaration period in policy.yaml batches")
    period = config.policy.batches[year]
    committees = [c for c in config.committees.values() if year in c.open_years]
    regions = config.regions
    counties = sorted(r.code for r in regions.counties("320000"))
    cities = sorted({regions.get(c).city_code for c in counties if regions.get(regions.get(c).city_code)})
    combos = {(c.series, sp, lv) for c in committees for sp in c.specialties for lv in c.levels}
    combos |= {(se, sp, lv) for se, sps in gen.initial_series.items() for sp in sps for lv in ap.LEVELS}
    ctx = YearContext(config, gen, year, period.opens_on, period.closes_on, committees, cities, counties, [])
    ctx.combos = sorted(c for c in combos if ctx.qualification(*c))
    return ctx


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, [float(weights[k]) for k in keys])[0]


def _regions_for(ctx: YearContext, covered: list[str], reporting: str) -> list[str]:
    regions = ctx.config.regions
    if reporting == "省直":
        return ["320000"] if "320000" in covered else list(covered)
    pool = ctx.cities if reporting == "市级" else ctx.counties
    inside = [c for c in pool if regions.covers(covered, c)]
    return inside or list(covered)


def make_plan(rng: random.Random, ctx: YearContext, track: str, kind: str | None = None) -> ap.Plan:
    """What the application is about; some fault kinds need a particular committee."""
    if track == "评审":
        committees = ctx.committees
        access = set(ctx.config.policy.access_qualification_series)
        if kind == "access_missing":
            committees = [c for c in committees if c.series in access] or committees
        elif kind == "region_not_covered":
            committees = [c for c in committees if "320000" not in c.covered_regions] or committees
        c = rng.choice(committees)
        if kind == "region_not_covered":  # an employer outside the committee's regions
            region = rng.choice([r for r in ctx.counties if not ctx.config.regions.covers(c.covered_regions, r)])
            return ap.Plan(track, rng.choice(c.levels), c.series, rng.choice(c.specialties), region, "县区级",
                           committee_id=c.id)
        level, specialty = rng.choice(c.levels), rng.choice(c.specialties)
        reporting = rng.choice({"省": ("省直", "市级", "县区级"), "市": ("市级", "县区级"),
                                "县区": ("县区级",)}[c.tier])
        region = rng.choice(_regions_for(ctx, c.covered_regions, reporting))
        return ap.Plan(track, level, c.series, specialty, region, reporting, committee_id=c.id)
    if track == "初定":
        series = rng.choice(sorted(ctx.gen.initial_series))
        specialty = rng.choice(ctx.gen.initial_series[series])
        level = _pick(rng, ctx.gen.initial_levels)
    else:
        series, specialty, level = rng.choice(ctx.combos)
    reporting = rng.choice(("市级", "县区级"))
    region = rng.choice(ctx.cities if reporting == "市级" else ctx.counties)
    return ap.Plan(track, level, series, specialty, region, reporting)


def submitted_at(rng: random.Random, ctx: YearContext) -> dt.datetime:
    days = (ctx.closes - ctx.opens).days
    day = ctx.opens + dt.timedelta(days=rng.randint(0, days))
    return dt.datetime(day.year, day.month, day.day, rng.randint(8, 22), rng.randrange(60), rng.randrange(60),
                       tzinfo=TZ)


def work_summary(rng: random.Random, employer: str, specialty: str, ach: str, paper: str,
                 low: int = 900, high: int = 1800) -> str:
    """Paragraphs of plausible sentences, between `low` and `high` characters."""
    sentences = list(vocab.SUMMARY_SENTENCES)
    paras: list[str] = []
    while sum(len(p) for p in paras) < low:
        rng.shuffle(sentences)
        para = "".join(s.format(employer=employer, sp=specialty, ach=ach, paper=paper) for s in sentences[:4])
        paras.append("    " + para)
    text = "\n".join(paras)
    return text[:high]


def achievements(rng: random.Random, plan: ap.Plan, city: str) -> list[dict[str, Any]]:
    if plan.track != "评审":
        return []
    n = {"员级": (0, 1), "助理级": (0, 1), "中级": (1, 2), "副高级": (2, 3), "正高级": (2, 4)}[plan.level]
    out = []
    for _ in range(rng.randint(*n)):
        size = rng.randint(3, 9)
        out.append({"title": rng.choice(vocab.ACHIEVEMENTS).format(city=city, word=rng.choice(vocab.FIRM_WORDS),
                                                                   sp=plan.specialty),
                    "role": rng.choice(vocab.ACH_ROLES), "rank": f"{rng.randint(1, size)}/{size}",
                    "material_id": None})
    return out


def papers(rng: random.Random, plan: ap.Plan, city: str, years: list[int]) -> list[dict[str, Any]]:
    if plan.track != "评审":
        return []
    n = {"员级": 0, "助理级": 0, "中级": 1, "副高级": 2, "正高级": 3}[plan.level]
    out = []
    for _ in range(rng.randint(max(0, n - 1), n)):
        day = dt.date(rng.choice(years), rng.randint(1, 12), rng.randint(1, 28))
        out.append({"title": rng.choice(vocab.PAPER_TITLES).format(sp=plan.specialty, city=city),
                    "venue": rng.choice(vocab.VENUES), "published": day.isoformat(), "material_id": None})
    return out
