"""The Submission contract check: what makes a submission invalid, and what does not."""
import copy

import pytest

from zhicheng.domain.submission import contract_problems, key_of

SOUND = {
    "submission_id": "JS2026-000001", "revision": 1, "track": "评审", "batch_year": 2026,
    "submitted_at": "2026-06-03T10:12:00+08:00",
    "applicant": {"name": "张三", "id_number": "320102199001020011", "gender": "男", "phone": "13800000000",
                  "email": "a@b.cn"},
    "employer": {"name": "某公司", "uscc": "91320100MA1XXXXXXX", "nature": "企业单位", "region_code": "320100",
                 "supervising_dept": None, "public_institution_staff": False},
    "declared": {"level": "中级", "series": "工程", "specialty": "电气工程", "qualification_name": "工程师",
                 "committee_id": "NJ-GC-ZJ", "reporting_level": "市级", "exceptional": False},
    "education": [{"kind": "学历", "level": "本科", "school": "南京大学", "major": "物理学",
                   "graduation_date": "2012-06-30", "certificate_no": None, "chsi_fetched": True,
                   "material_id": None}],
    "work_history": [{"start": "2012-07-01", "end": None, "employer": "某公司", "role": "工程师"}],
    "continuing_education": [{"year": 2025, "course": "公需课", "kind": "公需科目", "hours": 24, "passed": True,
                              "material_id": None}],
    "annual_assessments": [{"year": 2025, "result": "合格", "material_id": None}],
    "achievements": [], "papers": [], "work_summary": "总结",
    "materials": [{"material_id": "M1", "type": "commitment", "file_name": "承诺书.pdf", "size": 1000,
                   "sha256": "ab" * 32}],
    "prior_certificate_no": None,
    "x_future_field": {"kept": True},
}


def broken(path, value):
    sub = copy.deepcopy(SOUND)
    *parents, last = path
    target = sub
    for p in parents:
        target = target[p]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return sub


def test_a_sound_submission_with_unknown_extra_fields_has_no_problems():
    assert contract_problems(SOUND) == []
    assert key_of(SOUND) == ("JS2026-000001", 1)


@pytest.mark.parametrize("path,value,named", [
    (("applicant", "phone"), 13800000000, "applicant.phone"),
    (("declared", "level"), KeyError, "declared.level: missing"),
    (("declared", "level"), "高级", "declared.level"),
    (("education",), {"not": "a list"}, "education: not a list"),
    (("materials", 0, "size"), "1000", "materials[0].size"),
    (("batch_year",), True, "batch_year"),
    (("submitted_at",), "2026-06-03 10:12", "submitted_at"),
    (("track",), "评定", "track"),
    (("employer",), None, "employer: missing"),
    (("work_history", 0, "start"), "2012-13-01", "work_history[0].start"),
])
def test_each_contract_break_is_named(path, value, named):
    problems = contract_problems(broken(path, value))
    assert len(problems) == 1 and problems[0].startswith(named), problems


def test_not_an_object_and_unsound_keys():
    assert contract_problems([1, 2]) == ["(submission): list instead of an object"]
    assert key_of({"submission_id": "", "revision": 1}) is None
    assert key_of({"submission_id": "S", "revision": 0}) is None
    assert key_of({"submission_id": "S", "revision": True}) is None


@pytest.mark.parametrize("field, value", [("id_number", 320102199001020011), ("phone", 13800000000),
                                          ("id_number", ["320102199001020011"])])
def test_a_problem_with_a_personal_field_shows_it_masked(field, value):
    (problem,) = contract_problems(broken(("applicant", field), value))
    assert problem.startswith(f"applicant.{field}: ") and "*" in problem
    assert str(value).strip("[]'") not in problem
