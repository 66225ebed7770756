import datetime as dt

from zhicheng.domain.certificate_record import record_problem
from zhicheng.domain.identity import make_id_number


def good() -> dict:
    return {"certificate_no": "C1", "version": 1, "holder_name": "张三",
            "holder_id_number": make_id_number("320102", dt.date(1990, 1, 1), 7, "男"),
            "qualification_name": "工程师", "level": "中级", "series": "工程", "specialty": "电气工程",
            "obtained_by": "评审", "committee_name": None, "approved_on": "2026-11-01",
            "issued_on": "2026-11-20", "issuer": "江苏省人力资源和社会保障厅", "issuer_region_code": "320000",
            "filed_with_province": True, "status": "valid", "replaces": None, "document_sha256": None,
            "batch_root": None}


def test_a_well_formed_record_with_extra_fields():
    assert record_problem(good()) is None
    assert record_problem({**good(), "note": "kept"}) is None


def test_each_fault_is_named_by_its_field():
    cases = {"version": 0, "level": "特级", "issued_on": "2026-13-01", "issuer_region_code": "32",
             "status": "gone", "document_sha256": "xyz", "filed_with_province": "yes",
             "holder_id_number": "320102199001011230", "committee_name": 5}
    for field, value in cases.items():
        assert record_problem({**good(), field: value}) == f"invalid_field:{field}", field
    assert record_problem({**good(), "version": True}) == "invalid_field:version"
    missing = good()
    del missing["batch_root"]
    assert record_problem(missing) == "missing_field:batch_root"
    assert record_problem([1]) == "invalid_record"
