"""Pure rules of delivery to the province: batches, keys, backoff, reconciliation."""
from __future__ import annotations

from hypothesis import given, strategies as st

from zhicheng.domain.delivery import (RECORD_FIELDS, backoff_seconds, batch_key, chunked,
                                      reconcile)


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
