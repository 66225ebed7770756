"""Pure rules of delivery to the province: batches, keys, backoff, reconciliation."""
from __future__ import annotations

from hypothesis import given, strategies as st

from zhicheng.domain.delivery import (RECORD_FIELDS, Candidate, after_failure, backoff_seconds,
                                      batch_key, chunked, reconcile, select_to_send)


@given(st.lists(st.integers(), max_size=2000), st.integers(min_value=1, max_value=500))
def test_chunks_keep_order_and_size(ids, size):
    batches = chunked(ids, size)
    assert [i for b in batches for i in b] == ids
    assert all(1 <= len(b) <= size for b in batches)


def test_batch_key_depends_only_on_content_and_order():
    a = batch_key(["A:v1", "B:v1"])
    assert a == batch_key(["A:v1", "B:v1"])
    assert a != batch_key(["B:v1", "A:v1"])
    assert a != batch_key(["A:v2", "B:v1"])
    assert 16 <= len(a) <= 64


def test_backoff_grows_and_is_capped():
    waits = [backoff_seconds(n) for n in range(1, 12)]
    assert waits == sorted(waits)
    assert waits[0] == 30 and waits[-1] == 3600


def _rec(no, version=1, **over):
    base = {k: None for k in RECORD_FIELDS}
    base.update(certificate_no=no, version=version, holder_name="张三", status="valid",
                filed_with_province=False, issued_on="2026-12-01")
    base.update(over)
    return base


def test_equal_registries_reconcile_clean():
    local = {n: _rec(n) for n in ("A", "B")}
    assert reconcile(local, {n: dict(r) for n, r in local.items()}).clean


def test_reconcile_names_missing_extra_stale_and_different():
    local = {"A": _rec("A"), "B": _rec("B", 2, status="revoked"), "C": _rec("C"), "D": _rec("D")}
    remote = {"B": _rec("B", 1), "C": _rec("C", holder_name="李四"), "D": _rec("D"), "E": _rec("E")}
    r = reconcile(local, remote)
    assert (r.missing, r.extra, r.stale) == (["A"], ["E"], ["B"])
    assert r.different == [{"certificate_no": "C", "fields": ["holder_name"]}]
    assert {row["problem"] for row in r.rows()} == {"missing", "extra", "stale", "different"}


def test_newer_version_at_province_is_not_stale_but_different():
    r = reconcile({"A": _rec("A", 1)}, {"A": _rec("A", 3)})
    assert r.stale == [] and r.different[0]["fields"] == ["version"]


def test_batch_key_changes_with_the_body_fingerprint():
    keys = ["A:v1", "B:v1"]
    assert batch_key(keys, "f1") == batch_key(keys, "f1") != batch_key(keys, "f2") != batch_key(keys)


def test_after_failure_waits_then_parks_as_dead_letter():
    assert [after_failure(n, 3) for n in (1, 2, 3, 4)] == [30, 60, None, None]


def test_newest_version_of_each_certificate_is_sent_once():
    cands = [Candidate(1, "A", 1), Candidate(2, "B", 1), Candidate(3, "A", 2), Candidate(4, "B", 1),
             Candidate(5, None, 1)]
    sel = select_to_send(cands, current={"A": 2, "B": 1}, in_open_batches=[])
    assert sel.send == [2, 3, 5] and sel.superseded == [1, 4] and sel.waiting == []


def test_older_than_the_registry_is_superseded_and_open_batches_hold_back():
    cands = [Candidate(1, "A", 1), Candidate(2, "B", 3), Candidate(3, "C", 1)]
    sel = select_to_send(cands, current={"A": 2, "B": 3}, in_open_batches=["B"])
    assert sel.superseded == [1] and sel.waiting == [2] and sel.send == [3]


@given(st.lists(st.tuples(st.sampled_from("ABCD"), st.integers(1, 4)), max_size=40))
def test_never_an_older_version_after_a_newer_one(rows):
    cands = [Candidate(i, no, v) for i, (no, v) in enumerate(rows)]
    current = {}
    for no, v in rows:
        current[no] = max(current.get(no, 0), v)
    sel = select_to_send(cands, current=current, in_open_batches=[])
    sent = [cands[i] for i in sel.send]
    assert sorted(sel.send + sel.superseded) == list(range(len(rows)))
    assert {c.certificate_no: c.version for c in sent} == current
    assert len({c.certificate_no for c in sent}) == len(sent)


def test_a_hall_notification_is_described_without_its_addressees_whole_id_number():
    from zhicheng.db.models import OutboxItem
    from zhicheng.delivery.service import describe
    number = "32021119850304055X"

    def item(params):
        return OutboxItem(id=1, target="hall_notification", status="rejected", dedupe_key="k", attempts=1,
                          payload={"id_number": number, "template": "issued", "params": params})
    assert describe(item({"certificate_no": "320200202630000017"}))["subject"] == "320200202630000017"
    assert describe(item({"submission_id": "JS2026000001"}))["subject"] == "JS2026000001"
    assert describe(item({"name": "张三"}))["subject"] == "3202**********055X"
