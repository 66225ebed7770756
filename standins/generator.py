"""The synthetic batch year: `generate(out, applications=N, seed=S)` writes a year
directory (docs/year-directory.md) that the hall and 学信 stand-ins load.

Deterministic: each application draws from its own random stream seeded by (seed, year,
index), the year-level choices from one stream seeded by (seed, year); nothing reads the
clock, and the PDFs carry no dates or random IDs. Same config, N and seed: the same bytes.
"""
from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import random
import shutil
from pathlib import Path
from typing import Any

from zhicheng.standins import applicants as ap
from zhicheng.standins import application as appl
from zhicheng.standins import faultplan as fp
from zhicheng.standins import names, vocab
from zhicheng.standins.materials import Builder, Material, build_materials

_ONLINE_CODE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
_UNKNOWN_REGIONS = ("320199", "320599", "321299", "329900")
_UNKNOWN_TYPES = ("shenbaobiao", "xueli_renzheng", "job_contract")
REPORT_KINDS = ("report_expired", "report_other_person", "report_unknown", "report_unreadable", "report_mismatch")


class Year:
    """Builds the applications of one batch year in memory, then writes them."""

    def __init__(self, config: Any, *, applications: int, seed: int, batch_year: int | None,
                 fault_rate: float | None) -> None:
        self.gen = dict(config.raw["generator.yaml"]["generator"])
        self.year = int(batch_year or self.gen["default_batch_year"])
        self.ctx = appl.year_context(config, self.gen, self.year)
        self.policy = config.policy
        self.n, self.seed = applications, seed
        self.rng = random.Random(f"zhicheng-year:{seed}:{self.year}")
        tracks = self.gen["tracks"]
        self.tracks = self.rng.choices(list(tracks), [float(v) for v in tracks.values()], k=applications)
        rate = self.gen["fault_rate"] if fault_rate is None else fault_rate
        self.fault_of = fp.assign(self.rng, self.tracks, float(rate), self.gen["faults"])
        self.dpi, self.low_dpi = int(self.gen["scan_dpi"]), int(self.gen["low_scan_dpi"])
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
        if pool and rng.random() > 1 / float(self.gen["applications_per_employer"]):
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
        staff = employer.nature == "事业单位" and rng.random() < float(self.gen["public_staff_rate"])
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
        if kind == "duplicate_active":
            self.fault(sub, kind, field="applicant.id_number",
                       detail=f"second {plan.track} application; first is {twin['sub']['submission_id']}")
        if kind is not None and fp.KINDS[kind].stage == "data":
            self._plant_data(rng, sub, kind)  # first: 学信 and the files see the data as submitted
        ctx = self._chsi(rng, state)
        materials = build_materials(sub, ctx, rng, self.dpi)
        self._plant_materials(rng, sub, materials, kind)
        if kind in REPORT_KINDS:  # the fault is the uploaded report's
            report = next(m for m in materials if m.type == "chsi_report")
            for f in self.faults:
                if f["submission_id"] == sub["submission_id"] and f["material_id"] is None:
                    f["material_id"] = report.material_id
        if sub["prior_certificate_no"] and kind != "prior_unknown":
            self.province.append(self._prior_record(rng, sub, person))
        if rng.random() < float(self.gen["extra_fields_rate"]):
            self._extras(sub)
        state["materials"] = materials
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
                rng, years, plan.specialty, int(self.policy.continuing_education["max_entries"])) if review else [],
            "annual_assessments": [{"year": y, "result": "优秀" if rng.random() < 0.2 else "合格", "material_id": None}
                                   for y in years] if review else [],
            "achievements": achs,
            "papers": paps,
            "work_summary": summary,
            "materials": [],
            "prior_certificate_no": ap.certificate_number(
                plan.region_code[:4] + "00", self.year - rng.randint(2, 15), plan.level, rng.randrange(1, 5000))
            if plan.track in ("补办", "换发") else None,
        }

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

    # -- 学信 ---------------------------------------------------------------------------
    def _chsi(self, rng: random.Random, state: dict[str, Any]) -> dict[str, Any]:
        """Decide what 学信 holds for the applicant and whether a report is uploaded."""
        sub, kind, person = state["sub"], state["kind"], state["person"]
        entries = state["education"]
        ctx: dict[str, Any] = {"report": None, "access_series": set(self.policy.access_qualification_series),
                               "access_name": vocab.ACCESS_QUALIFICATIONS.get(
                                   "高校教师" if sub["declared"]["series"] == "高校教师" else "卫生技术"),
                               "summary_excerpt": (sub["work_summary"] or "本人工作认真负责。")[:300]}
        if sub["track"] == "历史登记":
            ctx["history_kinds"] = rng.sample(["history_form", "old_certificate", "history_approval"],
                                              rng.choice((2, 3)))
        if state["twin"] is not None:  # the same person: 学信 already holds them
            return ctx
        records = [ap.chsi_record(e, f"CHSI{hashlib.sha1(e['_cert'].encode()).hexdigest()[:12]}")
                   for e in entries]
        holder = person.name
        if kind == "chsi_not_held":
            for k, e in enumerate(entries):
                self.fault(sub, kind, field=f"education[{k}]", detail=f"{e['kind']} {e['school']}")
            records = []
        elif kind == "chsi_mismatch":
            what = rng.choice(("school", "major", "graduation_date"))
            rec = records[0]
            if what == "school":
                rec["school"] = next(s for s, _ in vocab.UNIVERSITIES + vocab.COLLEGES if s != rec["school"])
            elif what == "major":
                rec["major"] = rec["major"] + "（专升本）" if rng.random() < 0.5 else "工商管理"
            else:
                d = dt.date.fromisoformat(rec["graduation_date"])
                rec["graduation_date"] = d.replace(year=d.year - 1).isoformat()
            self.fault(sub, kind, field="education[0]", detail=what)
        elif kind == "chsi_name_mismatch":
            holder = names.other_name(rng, person.name)
            self.fault(sub, kind, field="applicant.name", detail=f"学信 holds the records under {holder}")
        else:
            typed = kind in ("no_certificate_no", "scan_missing")  # typed in, scans uploaded
            if not typed and rng.random() < float(self.gen["chsi_fetched_rate"]):
                for e in entries:
                    e["chsi_fetched"] = True
            if kind in REPORT_KINDS or (not typed and rng.random() < 0.8):
                record = records[0]
                if kind == "report_mismatch":  # the report of an education not declared
                    record = self._undeclared(rng, entries[0], person)
                    records.append(record)
                ctx["report"] = self._report(rng, sub, person, record, kind)
                ctx["report_scanned"] = kind == "report_unreadable"
        if records:
            self.chsi_people[sub["applicant"]["id_number"]] = {
                "id_number": sub["applicant"]["id_number"], "name": holder, "records": records}
        return ctx

    def _report(self, rng: random.Random, sub: dict, person: ap.Person, record: dict, kind: str | None) -> dict:
        code = self._online_code(rng)
        submitted = dt.date.fromisoformat(sub["submitted_at"][:10])
        valid_until = dt.date(self.year + 2, rng.randint(1, 12), rng.randint(1, 28))  # outlives the demo
        printed = submitted - dt.timedelta(days=rng.randint(1, 40))
        name, id_number, gender = person.name, sub["applicant"]["id_number"], person.gender
        if kind == "report_expired":
            valid_until = self.ctx.opens - dt.timedelta(days=rng.randint(5, 200))
            printed = valid_until - dt.timedelta(days=180)
            self.fault(sub, kind, field="education[0]", detail=valid_until.isoformat())
        elif kind == "report_other_person":  # a classmate's report: same school, major, year
            gender = rng.choice(("男", "女"))
            name = names.person_name(rng, gender)[0]
            id_number = ap.make_id_number(rng.choice(self.ctx.counties), person.birth, 700 + rng.randrange(200), gender)
            self.fault(sub, kind, field="education[0]", detail=f"report of {name} {id_number}")
        elif kind == "report_unknown":
            self.fault(sub, kind, field="education[0]", detail=code)
        elif kind == "report_unreadable":
            self.fault(sub, kind, field="education[0]", detail="备案表 uploaded as a scan: no text")
        elif kind == "report_mismatch":
            self.fault(sub, kind, field="education[0]", detail=f"report of {record['level']} {record['school']}")
        report = {"online_code": code, "valid_until": valid_until.isoformat(), "id_number": id_number,
                  "name": name, "record": record}
        if kind != "report_unknown":
            self.reports.append(report)
        return {**report, "gender": gender, "printed_on": printed.isoformat()}

    def _undeclared(self, rng: random.Random, declared: dict, person: ap.Person) -> dict:
        """Another 学历 of the person that 学信 holds but the applicant did not declare:
        an earlier 专科, or for a 专科 graduate a later 本科 by adult education (专升本)."""
        grad = dt.date.fromisoformat(declared["graduation_date"])
        if declared["level"] == "专科":
            level, school, grad = "本科", rng.choice(vocab.UNIVERSITIES), grad.replace(year=grad.year + 2)
        else:
            level, school, grad = "专科", rng.choice(vocab.COLLEGES), grad.replace(year=grad.year - 4)
        cert = f"{school[1]}5{grad.year}{'05' if level == '本科' else '06'}{rng.randrange(10**6):06d}"
        return {"record_id": f"CHSI{hashlib.sha1(cert.encode()).hexdigest()[:12]}", "kind": "学历", "level": level,
                "school": school[0], "major": declared["major"], "study_form": "成人教育",
                "enrollment_date": grad.replace(year=grad.year - 3, month=3, day=1).isoformat(),
                "graduation_date": grad.isoformat(), "certificate_no": cert}

    def _online_code(self, rng: random.Random) -> str:
        while True:
            code = "".join(rng.choice(_ONLINE_CODE_CHARS) for _ in range(16))
            if code not in self.codes:
                self.codes.add(code)
                return code

    # -- planted faults ------------------------------------------------------------------
    def _plant_data(self, rng: random.Random, sub: dict[str, Any], kind: str) -> None:
        a, e, d = sub["applicant"], sub["employer"], sub["declared"]
        if kind == "id_check_char":
            good = a["id_number"]
            a["id_number"] = good[:17] + rng.choice([c for c in "0123456789X" if c != good[17]])
            self.fault(sub, kind, field="applicant.id_number", detail=f"check character {good[17]} changed")
        elif kind == "gender_mismatch":
            a["gender"] = "女" if a["gender"] == "男" else "男"
            self.fault(sub, kind, field="applicant.gender")
        elif kind == "uscc_invalid":
            good = e["uscc"]
            e["uscc"] = good[:17] + rng.choice([c for c in "0123456789ABCDEFGHJKLMNPQRTUWXY" if c != good[17]])
            self.fault(sub, kind, field="employer.uscc", detail=f"check character {good[17]} changed")
        elif kind == "region_unknown":
            e["region_code"] = rng.choice(_UNKNOWN_REGIONS)
            self.fault(sub, kind, field="employer.region_code", detail=e["region_code"])
        elif kind == "committee_unknown":
            d["committee_id"] = rng.choice(("JS-GC-ZJ-2019", "NJ-JJ-GJ", "WX-GC-ZJ"))
            self.fault(sub, kind, field="declared.committee_id", detail=d["committee_id"])
        elif kind == "committee_not_covering":
            self._not_covering(rng, sub)
        elif kind == "outside_period":
            self.fault(sub, kind, field="submitted_at", detail=sub["submitted_at"])
        elif kind == "summary_too_long":
            sub["work_summary"] = appl.work_summary(rng, e["name"], d["specialty"], "重点项目", "论文",
                                                    low=2200, high=2600)
            self.fault(sub, kind, field="work_summary", detail=f"{len(sub['work_summary'])} chars")
        elif kind == "ce_too_many":
            ce = sub["continuing_education"]
            limit = int(self.policy.continuing_education["max_entries"])
            while len(ce) <= limit + rng.randrange(3):
                ce.append({"year": ce[-1]["year"], "course": rng.choice(vocab.SUBJECT_COURSES).format(sp=d["specialty"]),
                           "kind": "专业科目", "hours": 16, "passed": True, "material_id": None})
            self.fault(sub, kind, field="continuing_education", detail=f"{len(ce)} entries")
        elif kind == "ce_missing_year":
            year = rng.choice(sorted({c["year"] for c in sub["continuing_education"]}))
            sub["continuing_education"] = [c for c in sub["continuing_education"]
                                           if not (c["year"] == year and c["kind"] == "公需科目")]
            self.fault(sub, kind, field="continuing_education", detail=str(year))
        elif kind == "no_certificate_no":
            for entry in sub["education"]:
                entry["certificate_no"] = None
            self.fault(sub, kind, field="education", detail="学历证书编号和学位证书编号都未填写")
        elif kind == "summary_too_short":
            sub["work_summary"] = appl.work_summary(rng, e["name"], d["specialty"], "本岗位工作", "论文",
                                                    low=300, high=rng.randint(500, 700))
            self.fault(sub, kind, field="work_summary", detail=f"{len(sub['work_summary'])} chars")
        elif kind == "summary_blank_lines":
            lines = sub["work_summary"].split("\n")
            blanks = max(12, len(lines))
            sub["work_summary"] = "\n\n".join(lines) + "\n" * (blanks - len(lines) + 1)
            self.fault(sub, kind, field="work_summary", detail=f"{blanks} blank lines")
        elif kind == "prior_unknown":
            good = sub["prior_certificate_no"]
            sub["prior_certificate_no"] = good[:17] + ("0" if good[17] != "0" else "1")
            self.fault(sub, kind, field="prior_certificate_no", detail=f"check character {good[17]} changed")
        elif kind == "assessment_missing_year":
            entry = sub["annual_assessments"].pop(rng.randrange(len(sub["annual_assessments"])))
            self.fault(sub, kind, field="annual_assessments", detail=str(entry["year"]))

    def _not_covering(self, rng: random.Random, sub: dict[str, Any]) -> None:
        """Name a province-wide committee (so the region is covered) that does not take the
        declared series, specialty or level."""
        d = sub["declared"]
        for c in self.ctx.committees:
            if "320000" in c.covered_regions and not (
                    c.series == d["series"] and d["specialty"] in c.specialties and d["level"] in c.levels):
                d["committee_id"] = c.id
                self.fault(sub, "committee_not_covering", field="declared.committee_id",
                           detail=f"{c.id} does not take {d['series']}/{d['specialty']}/{d['level']}")
                return

    def _plant_materials(self, rng: random.Random, sub: dict, materials: list[Material], kind: str | None) -> None:
        head = [f"{sub['applicant']['name']} {sub['applicant']['id_number']}", sub["submission_id"]]
        if kind == "material_missing":
            wanted = {"初定": ("commitment", "employer_consent"), "评审": ("commitment", "employer_consent")}.get(
                sub["track"], ("void_notice", "reissue_form", "old_certificate"))
            gone = rng.choice([m for m in materials if m.type in wanted])
            materials.remove(gone)
            self.fault(sub, kind, field="materials", detail=gone.type)
        elif kind == "unknown_material_type":
            b = Builder(sub, rng, self.dpi)
            b.text(rng.choice(_UNKNOWN_TYPES), "其他补充材料", ["本人补充说明材料。"])
            m = b.items[0]
            m.material_id = f"M{len(materials) + 1:02d}"
            materials.append(m)
            self.fault(sub, kind, material_id=m.material_id, field="type", detail=m.type)
        elif kind == "duplicate_file":
            self._duplicate_file(sub, materials)
        elif kind in ("scan_missing", "access_missing", "form_missing"):
            self._drop(rng, sub, materials, kind)
        elif kind is not None and fp.KINDS[kind].stage == "file":
            m = fp.target_of(kind, materials)
            if m is not None:
                detail = fp.plant_file(kind, m, rng, self.dpi, self.low_dpi, head)
                self.fault(sub, kind, material_id=m.material_id, detail=detail)

    def _drop(self, rng: random.Random, sub: dict, materials: list[Material], kind: str) -> None:
        """Leave out a material another rule requires (and unlink it from its entry)."""
        if kind == "scan_missing":
            entry, field, detail = sub["education"][0], "education[0]", sub["education"][0]["kind"]
        elif kind == "form_missing":
            k = rng.randrange(len(sub["annual_assessments"]))
            entry, field = sub["annual_assessments"][k], "annual_assessments"
            detail = str(entry["year"])
        else:
            entry, field, detail = None, "materials", "access_qualification"
        if entry is not None:
            mid, entry["material_id"] = entry["material_id"], None
            gone = next(m for m in materials if m.material_id == mid)
        else:
            gone = next(m for m in materials if m.type == "access_qualification")
        materials.remove(gone)
        self.fault(sub, kind, field=field, detail=detail)

    def _duplicate_file(self, sub: dict, materials: list[Material]) -> None:
        """Upload the very file another applicant uploaded (both are listed)."""
        mine = fp.target_of("duplicate_file", materials)
        for state in reversed(self.apps):
            theirs = fp.target_of("duplicate_file", state["materials"])
            if state["kind"] is None and theirs is not None and mine is not None \
                    and state["person"].id_number != sub["applicant"]["id_number"]:
                mine.data = theirs.data
                state["kind"] = "duplicate_file(source)"
                self.fault(state["sub"], "duplicate_file", material_id=theirs.material_id,
                           detail=f"same file as {sub['submission_id']}/{mine.material_id}")
                self.fault(sub, "duplicate_file", material_id=mine.material_id,
                           detail=f"same file as {state['sub']['submission_id']}/{theirs.material_id}")
                return

    def _extras(self, sub: dict[str, Any]) -> None:
        sub["hall_extension"] = {"channel": "苏服办", "form_version": f"{self.year}.3", "trace": sub["submission_id"]}
        sub["applicant"]["nation"] = "汉族"
        self.extras.append({"submission_id": sub["submission_id"], "fields": ["hall_extension", "applicant.nation"]})

    def _invalid(self, rng: random.Random, sub: dict[str, Any]) -> None:
        """Break one required field's presence or type (the submission stays well-formed JSON)."""
        variant = rng.randrange(5)
        if variant == 0:
            del sub["declared"]["level"]
            field = "declared.level"
        elif variant == 1:
            sub["batch_year"] = f"{self.year}年"
            field = "batch_year"
        elif variant == 2:
            sub["education"] = {"学历": sub["education"][0]["level"]}
            field = "education"
        elif variant == 3:
            sub["materials"][0]["size"] = f"{sub['materials'][0]['size'] // 1024}KB"
            field = "materials[0].size"
        else:
            sub["applicant"]["phone"] = int(sub["applicant"]["phone"])
            field = "applicant.phone"
        self.fault(sub, "invalid_submission", field=field)

    # -- output ----------------------------------------------------------------------------
    def finish(self) -> None:
        """Declare the materials (size and hash of the bytes unless a fault says otherwise)."""
        for state in self.apps:
            sub = state["sub"]
            for e in sub["education"] if isinstance(sub["education"], list) else []:
                e.pop("_enrollment", None)
                e.pop("_cert", None)
            sub["materials"] = [{"material_id": m.material_id, "type": m.type, "file_name": m.file_name,
                                 "size": m.declared_size or len(m.data),
                                 "sha256": m.declared_sha256 or hashlib.sha256(m.data).hexdigest()}
                                for m in state["materials"]]
            if state["kind"] == "invalid_submission":
                self._invalid(random.Random(f"zhicheng-invalid:{self.seed}:{sub['submission_id']}"), sub)


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
            raise FileExistsError(f"{out} is not empty; choose a new directory or pass force")
        shutil.rmtree(out)
    year = Year(config, applications=applications, seed=seed, batch_year=batch_year, fault_rate=fault_rate)
    for i in range(applications):
        year.build(i)
    year.finish()
    from zhicheng.standins.yearfiles import write_year
    return write_year(out, year)
