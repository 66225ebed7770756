"""The lineage rules of 历史登记, 补办 and 换发 (domain.lineage), over plain data."""
from __future__ import annotations

import datetime as dt

from zhicheng.config import get_config
from zhicheng.domain import lineage
from zhicheng.domain.certificate_numbers import make_number

CAT = get_config().findings
TODAY = dt.date(2026, 12, 3)
ID = "320102197503010014"
HISTORIC = {"certificate_no": "32012009300123", "obtained_by": "初定", "approved_on": "2009-12-03",
            "issued_on": "2009-12-20", "issuer": "南京市人力资源和社会保障局",
            "issuer_region_code": "320100", "committee_name": None}


def record(no: str, **kw) -> dict:
    base = {"certificate_no": no, "version": 1, "holder_id_number": ID, "qualification_name": "工程师",
            "level": "中级", "series": "工程", "specialty": "电气工程", "obtained_by": "评审",
            "committee_name": "南京市工程系列中级职称评审委员会", "approved_on": "2016-12-03",
            "status": "valid", "replaces": None}
    return {**base, **kw}


def reissue(prior: str, **kw) -> dict:
    return {"track": "补办", "applicant": {"id_number": ID}, "prior_certificate_no": prior, **kw}


def codes(findings) -> list[str]:
    return [f.code for f in findings]


def test_a_reissue_is_judged_on_what_the_look_up_found():
    no = make_number("320100", 2016, 3, 812)
    sub = reissue(no)
    assert lineage.lookup_findings(sub, CAT, outcome=None, record=None) == []   # not asked yet
    (f,) = lineage.lookup_findings(sub, CAT, outcome=lineage.NOT_FOUND, record=None)
    assert f.code == "reissue.prior_certificate_not_found" and no in f.message
    assert "历史职称数据登记" in f.message                                     # the seed's advice
    assert lineage.lookup_findings(sub, CAT, outcome=lineage.FOUND, record=record(no)) == []
    other = record(no, holder_id_number="320102198001010011")
    assert codes(lineage.lookup_findings(sub, CAT, outcome="found", record=other)) == \
        ["reissue.prior_certificate_not_holders"]
    assert codes(lineage.lookup_findings(sub, CAT, outcome="found", record=record(no, status="revoked"))) == \
        ["reissue.prior_certificate_revoked"]
    declared = reissue(no, prior_obtained_by="初定")
    (w,) = lineage.lookup_findings(declared, CAT, outcome="found", record=record(no))
    assert w.code == "reissue.origin_differs" and w.severity == "warning"


def test_only_our_format_is_checked_locally_legacy_numbers_are_looked_up():
    good = make_number("320100", 2016, 3, 812)
    assert not lineage.number_is_ours_but_wrong(good)
    assert lineage.number_is_ours_but_wrong(good[:17] + ("0" if good[17] != "0" else "1"))
    assert not lineage.number_is_ours_but_wrong("32012009300123")       # legacy: ask the province
    assert not lineage.number_is_ours_but_wrong("苏职评2009-123")


def test_a_history_registration_declares_the_certificate_whole():
    sub = {"track": "历史登记", "historical_certificate": dict(HISTORIC)}
    assert lineage.history_findings(sub, CAT, today=TODAY) == []
    assert lineage.looked_up_number(sub) == "32012009300123"
    broken = {"track": "历史登记", "historical_certificate": {
        **HISTORIC, "obtained_by": "认定", "issued_on": "2009-11-01", "issuer_region_code": "3201"}}
    found = lineage.history_findings(broken, CAT, today=TODAY)
    assert {f.field for f in found} == {"historical_certificate.obtained_by", "historical_certificate.issued_on",
                                        "historical_certificate.issuer_region_code"}
    assert all(f.code == "history.certificate_incomplete" and f.severity == "error" for f in found)
    future = {"track": "历史登记", "historical_certificate": {**HISTORIC, "approved_on": "2027-01-01",
                                                            "issued_on": "2027-01-02"}}
    assert len(lineage.history_findings(future, CAT, today=TODAY)) == 2
    none = lineage.history_findings({"track": "历史登记"}, CAT, today=TODAY)
    assert "historical_certificate.certificate_no" in {f.field for f in none}
    held = lineage.lookup_findings(sub, CAT, outcome="found", record=record("32012009300123"))
    assert codes(held) == ["history.already_held"]


def test_the_origin_survives_any_number_of_reissues():
    first = record("A", obtained_by="初定", approved_on="2009-12-03", committee_name=None)
    chain = [first]
    for no in ("B", "C", "D"):
        origin = lineage.successor_origin(chain[-1])
        chain.append(record(no, **{**origin, "approved_on": origin["approved_on"].isoformat()},
                            replaces=chain[-1]["certificate_no"]))
    assert {(r["obtained_by"], r["approved_on"], r["committee_name"]) for r in chain} == {("初定", "2009-12-03", None)}
    assert lineage.successor_origin(first)["approved_on"] == dt.date(2009, 12, 3)
    assert lineage.historic_fields({"track": "历史登记", "historical_certificate": HISTORIC})["issued_on"] \
        == dt.date(2009, 12, 20)


def test_one_valid_certificate_per_person_and_qualification():
    old, new = record("A"), record("B", replaces="A")
    assert lineage.several_valid([old, new]) == {(ID, "工程师"): ["A", "B"]}
    assert lineage.replaced_still_valid([old, new]) == [("B", "A")]
    old["status"] = "revoked"
    assert lineage.several_valid([old, new]) == {} and lineage.replaced_still_valid([old, new]) == []
    other_title = record("C", qualification_name="高级工程师")
    assert lineage.several_valid([new, other_title]) == {}
