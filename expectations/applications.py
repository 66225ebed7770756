"""Suite `applications`: who applies and what they declared, as accepted into review."""
from __future__ import annotations

from zhicheng.clock import local_date
from zhicheng.db.models.applications import STATUSES
from zhicheng.expectations.scope import accepted, of_year
from zhicheng.expectations.spec import Check, Params, Suite
from zhicheng.expectations.sql import Dialect, in_list

_ROW = "a.id AS application_id, a.submission_id"


def suite(p: Params) -> Suite:
    return Suite("applications", "applications", (
        _id_numbers(p), _usccs(p), _regions(p), _status(p), _submitted(p), _steps(p),
        _decided_after_submission(p), _committee(p)))


def _id_numbers(p: Params) -> Check:
    return Check(
        "id_number_valid", "申报人身份证号符合 GB 11643（含校验码、出生日期、性别）",
        f"SELECT {_ROW}, p.id_number, p.gender FROM {{batch}} a "
        f"JOIN applicants p ON p.id = a.applicant_id WHERE {accepted('a', p)}",
        rule="id_number", rule_args={"today": local_date(p.as_of).isoformat()})


def _usccs(p: Params) -> Check:
    return Check(
        "employer_uscc_valid", "申报单位统一社会信用代码符合 GB 32100（含校验码）",
        f"SELECT {_ROW}, e.uscc FROM {{batch}} a JOIN employers e ON e.id = a.employer_id "
        f"WHERE {accepted('a', p)}", rule="uscc")


def known_region_codes(p: Params) -> list[str]:
    """The codes of config/regions.yaml, as zhicheng.domain.regions knows them."""
    return p.config.regions.codes()


def _regions(p: Params) -> Check:
    # the application's own region_code is its employer's region as it submitted it; the
    # shared employers row holds whatever the employer's latest submission said, which
    # may be another applicant's returned one (a typo the hall gets back)
    known = in_list(known_region_codes(p))
    return Check(
        "regions_known", "申报地区（申报时单位所在地区）是 config/regions.yaml 中已知的 GB/T 2260 代码",
        f"SELECT {_ROW}, a.region_code FROM {{batch}} a WHERE {accepted('a', p)} "
        f"AND a.region_code IS NOT NULL AND a.region_code NOT IN {known}")


def _status(p: Params) -> Check:
    return Check(
        "status_known", "办件状态是已知状态之一",
        f"SELECT {_ROW}, a.status FROM {{batch}} a WHERE {of_year('a', p)} "
        f"AND (a.status IS NULL OR a.status NOT IN {in_list(STATUSES)})")


def _submitted(p: Params) -> Check:
    now = Dialect(p.dialect).timestamp(p.as_of)
    return Check(
        "submitted_not_in_future", "提交时间不晚于检查时刻",
        f"SELECT {_ROW}, a.submitted_at FROM {{batch}} a WHERE {of_year('a', p)} "
        f"AND a.submitted_at > {now}")


def _steps(p: Params) -> Check:
    return Check(
        "review_steps_in_order", "审核环节的离开时间和期限不早于进入时间",
        f"SELECT {_ROW}, s.stage, s.entered_at, s.left_at, s.due_at FROM {{batch}} a "
        f"JOIN review_steps s ON s.application_id = a.id WHERE {of_year('a', p)} "
        f"AND (s.left_at < s.entered_at OR s.due_at < s.entered_at)")


def _decided_after_submission(p: Params) -> Check:
    # submitted_at is the current revision's submission (or the first one): decisions on
    # the current revision come after it. A department may date a decision by day only,
    # hence one day of slack.
    d = Dialect(p.dialect)
    return Check(
        "decided_after_submission", "当前版本的审核决定不早于提交日期",
        f"SELECT {_ROW}, d.id AS decision_id, d.stage, d.decided_at, a.submitted_at "
        f"FROM {{batch}} a JOIN decisions d ON d.application_id = a.id "
        f"AND d.revision = a.current_revision WHERE {of_year('a', p)} "
        f"AND d.decided_at < {d.minus_days('a.submitted_at', 1)}")


def _committee(p: Params) -> Check:
    d = Dialect(p.dialect)
    return Check(
        "committee_covers_declaration", "所选评委会本年度开放，并覆盖申报的系列、级别和专业",
        f"SELECT {_ROW}, a.committee_id, a.batch_year, a.series, a.level, a.specialty "
        f"FROM {{batch}} a JOIN committees c ON c.id = a.committee_id WHERE {accepted('a', p)} "
        f"AND (a.series IS NULL OR c.series <> a.series "
        f"OR a.level IS NULL OR NOT {d.json_has('c.levels', 'a.level')} "
        f"OR a.specialty IS NULL OR NOT {d.json_has('c.specialties', 'a.specialty')} "
        f"OR NOT EXISTS (SELECT 1 FROM batches b WHERE b.year = a.batch_year "
        f"AND b.committee_key = a.committee_id))")
