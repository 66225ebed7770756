"""The synthetic batch year: `generate(out, applications=N, seed=S)` writes a year
directory (docs/year-directory.md) that the hall and 学信 stand-ins load.

Deterministic: each application draws from its own random stream seeded by (seed, year,
index), the year-level choices from one stream seeded by (seed, year); nothing reads the
clock, and the PDFs carry no dates or random IDs. Same config, N and seed: the same bytes.
"""
from __future__ import annotations

import copy
import datetime as dt
import random
import shutil
from pathlib import Path
from typing import Any

from zhicheng.standins import applicants as ap
from zhicheng.standins import application as appl
from zhicheng.standins import chsi_data, planting
from zhicheng.standins import faultplan as fp
from zhicheng.standins.chsi_data import REPORT_KINDS
from zhicheng.standins.materials import build_materials
from zhicheng.standins.yearfiles import material_file, write_year


class Year:
    """Builds the applications of one batch year, writing each one's files into `out` as
    it is built (the rest stays in memory until `write_year`)."""

    def __init__(self, config: Any, out: Path, *, applications: int, seed: int, batch_year: int | None,
                 fault_rate: float | None) -> None:
        self.out = out
        self.gen = settings(config)
        self.year = int(batch_year or self.gen.default_batch_year)
        self.ctx = appl.year_context(config, self.gen, self.year)
        self.policy = config.policy
        self.n, self.seed = applications, seed
        self.rng = random.Random(f"zhicheng-year:{seed}:{self.year}")
        tracks = self.gen.tracks
        self.tracks = self.rng.choices(list(tracks), [float(v) for v in tracks.values()], k=applications)
        rate = self.gen.fault_rate if fault_rate is None else fault_rate
        self.fault_of = fp.assign(self.rng, self.tracks, float(rate), self.gen.faults)
        self.dpi, self.low_dpi = int(self.gen.scan_dpi), int(self.gen.low_scan_dpi)
        self.employers: dict[tuple[str, str], list[ap.Employer]] = {}
        self.by_name: dict[str, ap.Employer] = {}
        self.ids: set[str] = set()
        self.codes: set[str] = set()
        self.apps: list[dict[str, Any]] = []        # per application: sub, materials, state
        self.faults: list[dict[str, Any]] = []
        self.extras: list[dict[str, Any]] = []
        self.chsi_people: dict[str, dict[str, Any]] = {}
        self.reports: list[dict[str, Any]] = []
        self.province: list[dict[str, Any]] = []   # certificates the province holds (补办/换发)

    # -- people and employers ----------------------------------------------------------
    def employer(self, rng: random.Random, plan: ap.Plan, public: bool = False) -> ap.Employer:
        pool = self.employers.setdefault((plan.series, plan.region_code), [])
        if pool and rng.random() > 1 / float(self.gen.applications_per_employer):
            if not public or any(e.nature == "事业单位" for e in pool):
                return rng.choice([e for e in pool if e.nature == "事业单位"] if public else pool)
        e = ap.make_employer(rng, self.ctx.config.regions, plan.series, plan.region_code)
        for _ in range(50):  # a public institution (事业单位) when the fault needs its staff
            if not public or e.nature == "事业单位":
                break
            e = ap.make_employer(rng, self.ctx.config.regions, plan.series, plan.region_code)
        e = self.by_name.setdefault(e.name, e)  # one 南京大学, however often it is drawn
        if e not in pool:
            pool.append(e)
        return e

    def person(self, rng: random.Random, i: int, level: str, edu: tuple, grad_year: int) -> ap.Person:
        birth_region = rng.choice(self.ctx.counties) if rng.random() < 0.85 else rng.choice(ap.OUTSIDE_PROVINCE_IDS)
        serial = i
        while True:
            p = ap.make_person(rng, grad_year=grad_year, age_at_graduation=edu[2], birth_region=birth_region,
                               serial=serial)
            if p.id_number not in self.ids:
                self.ids.add(p.id_number)
                return p
            serial += 997

    def fault(self, sub: dict[str, Any], kind: str, *, field: str | None = None, material_id: str | None = None,
              detail: str | None = None) -> None:
        self.faults.append({"submission_id": sub["submission_id"], "material_id": material_id, "field": field,
                            "code": fp.KINDS[kind].code, "kind": kind, "detail": detail})

    # -- one application ---------------------------------------------------------------
    def build(self, i: int) -> None:
        rng = random.Random(f"zhicheng-app:{self.seed}:{self.year}:{i}")
        track, kind = self.tracks[i], self.fault_of.get(i)
        twin = self._twin(i) if kind == "duplicate_active" else None
        if kind == "duplicate_active" and twin is None:
            kind = None
        plan = copy.copy(twin["plan"]) if twin else appl.make_plan(rng, self.ctx, track, kind)
        employer = twin["employer"] if twin else self.employer(rng, plan, public=kind == "form_missing")
        staff = employer.nature == "事业单位" and rng.random() < float(self.gen.public_staff_rate)
        if kind in ("assessment_missing_year", "form_missing"):
            staff = kind == "form_missing"  # a staff member missing a year would also miss its form
        edu = rng.choice(ap.EDUCATION[plan.level])
        lo, hi = ap.SERVICE_YEARS[plan.level]
        grad_year = self.year - rng.randint(lo, hi)
        person = twin["person"] if twin else self.person(rng, i, plan.level, edu, grad_year)
        education = copy.deepcopy(twin["education"]) if twin else \
            ap.education_entries(rng, person, plan, edu, grad_year)
        when = self._when(rng, twin, kind)
        sub = self._submission(rng, i, plan, person, employer, staff, education, when)
        state = {"index": i, "plan": plan, "employer": employer, "person": person, "education": education,
                 "kind": kind, "sub": sub, "chsi": "held", "twin": twin}
        if kind == "region_not_covered":
            self.fault(sub, kind, field="employer.region_code",
                       detail=f"{plan.region_code} outside {plan.committee_id}")
        if kind == "duplicate_active" and twin is not None:   # a duplicate has its twin (above)
            self.fault(sub, kind, field="applicant.id_number",
                       detail=f"second {plan.track} application; first is {twin['sub']['submission_id']}")
        if kind is not None and fp.KINDS[kind].stage == "data":
            planting.plant_data(self, rng, sub, kind)  # first: 学信 and the files see the data as submitted
        ctx = chsi_data.chsi(self, rng, state)
        materials = build_materials(sub, ctx, rng, self.dpi)
        planting.plant_materials(self, rng, sub, materials, kind)
        if kind in REPORT_KINDS:  # the fault is the uploaded report's
            report = next(m for m in materials if m.type == "chsi_report")
            for f in self.faults:
                if f["submission_id"] == sub["submission_id"] and f["material_id"] is None:
                    f["material_id"] = report.material_id
        if sub["prior_certificate_no"] and kind not in ("prior_unknown", "prior_not_found"):
            self.province.append(self._prior_record(rng, sub, person))
        if kind == "history_held":  # the province already holds the historic certificate
            self.province.append(self._historic_record(sub))
        if rng.random() < float(self.gen.extra_fields_rate):
            planting.extras(self, sub)
        state["materials"] = materials
        for m in materials:
            m.write(self.out / material_file(sub["submission_id"], m))
        self.apps.append(state)

    def _twin(self, i: int) -> dict[str, Any] | None:
        """An earlier clean 初定/评审 application whose applicant applies a second time."""
        for state in reversed(self.apps):
            if state["kind"] is None and state["plan"].track in fp.REVIEW and state["twin"] is None \
                    and not state.get("has_twin"):
                state["has_twin"] = True
                return state
        return None

    def _when(self, rng: random.Random, twin: dict[str, Any] | None, kind: str | None) -> dt.datetime:
        if kind == "outside_period":
            if rng.random() < 0.5:
                day = self.ctx.opens - dt.timedelta(days=rng.randint(1, 20))
            else:
                day = self.ctx.closes + dt.timedelta(days=rng.randint(1, 20))
            return dt.datetime(day.year, day.month, day.day, rng.randint(8, 22), rng.randrange(60), tzinfo=appl.TZ)
        if twin is not None:  # the second application comes after the first, inside the period
            first = dt.datetime.fromisoformat(twin["sub"]["submitted_at"])
            end = dt.datetime(self.ctx.closes.year, self.ctx.closes.month, self.ctx.closes.day, 23, 0, tzinfo=appl.TZ)
            return first + (end - first) * rng.uniform(0.1, 0.9)
        return appl.submitted_at(rng, self.ctx)

    def _submission(self, rng: random.Random, i: int, plan: ap.Plan, person: ap.Person, employer: ap.Employer,
                    staff: bool, education: list[dict], when: dt.datetime) -> dict[str, Any]:
        years = ap.assessment_years(self.policy, plan.level, self.year)
        review = plan.track in fp.REVIEW
        city = ap.place_name(self.ctx.config.regions, plan.region_code)
        achs = appl.achievements(rng, plan, city)
        paps = appl.papers(rng, plan, city, years)
        summary = appl.work_summary(rng, employer.name, plan.specialty, achs[0]["title"] if achs else "本岗位重点工作",
                                    paps[0]["title"] if paps else f"{plan.specialty}实践") if review else ""
        grad = dt.date.fromisoformat(education[0]["graduation_date"])
        return {
            "submission_id": f"JS{self.year}{i + 1:06d}",
            "revision": 1,
            "track": plan.track,
            "batch_year": self.year,
            "submitted_at": when.replace(microsecond=0).isoformat(),
            "applicant": {"name": person.name, "id_number": person.id_number, "gender": person.gender,
                          "phone": person.phone, "email": person.email},
            "employer": employer.as_dict(staff),
            "declared": {"level": plan.level, "series": plan.series, "specialty": plan.specialty,
                         "qualification_name": self.ctx.qualification(plan.series, plan.specialty, plan.level),
                         "committee_id": plan.committee_id, "reporting_level": plan.reporting_level,
                         "exceptional": plan.track == "评审" and rng.random() < 0.02},
            "education": education,
            "work_history": ap.work_history(rng, grad, employer, plan.level, when.date()),
            "continuing_education": ap.continuing_education(
                rng, years, plan.specialty, self.policy.continuing_education.max_entries) if review else [],
            "annual_assessments": [{"year": y, "result": "优秀" if rng.random() < 0.2 else "合格", "material_id": None}
                                   for y in years] if review else [],
            "achievements": achs,
            "papers": paps,
            "work_summary": summary,
            "materials": [],
            "prior_certificate_no": ap.certificate_number(
                plan.region_code[:4] + "00", self.year - rng.randint(2, 15), plan.level, rng.randrange(1, 5000))
            if plan.track in ("补办", "换发") else None,
            **self._lineage(i, plan),
        }

    def _lineage(self, i: int, plan: ap.Plan) -> dict[str, Any]:
        """The extension fields of docs/lifecycle.md: the origin a 补办/换发 declares, the
        historic certificate a 历史登记 declares (a legacy 14-digit number of the former
        platform, or one in today's format). Its own random stream: the rest of the year
        stays what it was before these fields existed."""
        if plan.track in ("补办", "换发"):
            return {"prior_obtained_by": "评审" if plan.level in ("副高级", "正高级") else "初定"}
        if plan.track != "历史登记":
            return {}
        rng = random.Random(f"zhicheng-history:{self.seed}:{self.year}:{i}")
        year = self.year - rng.randint(8, 25)
        region = plan.region_code[:4] + "00"
        office = self.ctx.config.title_offices.get(region) or self.ctx.config.title_offices["320000"]
        serial = rng.randrange(1, 5000)
        number = (f"{region[:4]}{year}{ap.LEVELS.index(plan.level) + 1}{serial:05d}" if rng.random() < 0.6
                  else ap.certificate_number(region, year, plan.level, serial))
        approved = dt.date(year, rng.choice((6, 9, 12)), rng.randint(1, 28))
        origin = "评审" if plan.level in ("副高级", "正高级") else "初定"
        return {"historical_certificate": {
            "certificate_no": number, "obtained_by": origin, "approved_on": approved.isoformat(),
            "issued_on": (approved + dt.timedelta(days=rng.randint(10, 40))).isoformat(),
            "issuer": office.issuer_name, "issuer_region_code": region,
            "committee_name": f"{ap.place_name(self.ctx.config.regions, region)}{plan.series}专业中级职称评审委员会"
            if origin == "评审" else None}}

    def _historic_record(self, sub: dict) -> dict[str, Any]:
        """A 历史登记's certificate as the province would hold it had it been registered."""
        h, d, a = sub["historical_certificate"], sub["declared"], sub["applicant"]
        return {"certificate_no": h["certificate_no"], "version": 1, "holder_name": a["name"],
                "holder_id_number": a["id_number"], "qualification_name": d["qualification_name"],
                "level": d["level"], "series": d["series"], "specialty": d["specialty"],
                "obtained_by": h["obtained_by"], "committee_name": h["committee_name"],
                "approved_on": h["approved_on"], "issued_on": h["issued_on"], "issuer": h["issuer"],
                "issuer_region_code": h["issuer_region_code"], "filed_with_province": True,
                "status": "valid", "replaces": None, "document_sha256": None, "batch_root": None}

    def _prior_record(self, rng: random.Random, sub: dict, person: ap.Person) -> dict[str, Any]:
        """The old certificate a 补办/换发 replaces, as the province holds it (CertificateRecord)."""
        d, no = sub["declared"], sub["prior_certificate_no"]
        office = self.ctx.config.title_offices.get(no[:6]) or self.ctx.config.title_offices["320000"]
        approved = dt.date(int(no[6:10]), 12, rng.randint(1, 28))
        return {"certificate_no": no, "version": 1, "holder_name": person.name, "holder_id_number": person.id_number,
                "qualification_name": d["qualification_name"], "level": d["level"], "series": d["series"],
                "specialty": d["specialty"], "obtained_by": "评审" if d["level"] in ("副高级", "正高级") else "初定",
                "committee_name": None, "approved_on": approved.isoformat(),
                "issued_on": (approved + dt.timedelta(days=rng.randint(10, 40))).isoformat(),
                "issuer": office.issuer_name, "issuer_region_code": no[:6], "filed_with_province": True,
                "status": "valid", "replaces": None, "document_sha256": None, "batch_root": None}

    # -- output ----------------------------------------------------------------------------
    def finish(self) -> None:
        """Declare the materials (size and hash of the bytes unless a fault says otherwise)."""
        for state in self.apps:
            sub = state["sub"]
            for e in sub["education"] if isinstance(sub["education"], list) else []:
                e.pop("_enrollment", None)
                e.pop("_cert", None)
            sub["materials"] = [{"material_id": m.material_id, "type": m.type, "file_name": m.file_name,
                                 "size": m.declared_size or m.size, "sha256": m.declared_sha256 or m.sha256}
                                for m in state["materials"]]
            if state["kind"] == "invalid_submission":
                planting.invalid(self, random.Random(f"zhicheng-invalid:{self.seed}:{sub['submission_id']}"), sub)


def settings(config: Any) -> Any:
    """config/generator.yaml `generator:` (its model checked keys and types at start-up),
    checked against what only the generator knows: its tracks and fault kinds, and the
    levels and scan resolution of policy.yaml (ConfigError names file, key and fault)."""
    from zhicheng.config import ConfigError
    path = Path(config.directory) / "generator.yaml"
    gen = config.generator.generator
    problems = [(f"tracks.{t}", "not a track") for t in gen.tracks if t not in fp.ALL]
    problems += [(f"faults.{k}", f"not a fault kind (known: {', '.join(sorted(fp.KINDS))})")
                 for k in gen.faults if k not in fp.KINDS]
    problems += [(f"initial_levels.{lv}", "not a level of policy.yaml") for lv in gen.initial_levels
                 if lv not in config.policy.levels]
    min_dpi = config.policy.materials.min_scan_dpi
    if gen.scan_dpi < min_dpi or gen.low_scan_dpi >= min_dpi:
        problems.append(("scan_dpi", f"scan_dpi must be at least and low_scan_dpi below {min_dpi}"))
    if problems:
        key, fault = problems[0]
        raise ConfigError(f"{path}: key generator.{key}: {fault}")
    return gen


def generate(out: str | Path, *, applications: int, seed: int, batch_year: int | None = None,
             config: Any = None, fault_rate: float | None = None, force: bool = False) -> dict[str, Any]:
    """Write a synthetic year into `out` (created; must be empty unless `force`); returns the manifest."""
    from zhicheng.config import get_config
    config = config or get_config()
    if applications < 1:
        raise ValueError("applications must be at least 1")
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        if not force:
            raise FileExistsError(f"{out} is not empty: choose a new directory (or --force to replace it)")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    year = Year(config, out, applications=applications, seed=seed, batch_year=batch_year, fault_rate=fault_rate)
    for i in range(applications):
        year.build(i)
    year.finish()
    return write_year(out, year)
