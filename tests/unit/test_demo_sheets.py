"""The files the demo's staff send: bounded, whatever the year's size (issue 25)."""
from zhicheng.demo import staff
from zhicheng.demo.staff import SHEET_ROWS, sheet_files


def test_a_province_sized_round_goes_in_sheets_of_an_offices_size():
    rows = [[str(i)] for i in range(2 * SHEET_ROWS + 3)]
    parts = sheet_files(rows, 100_000)
    assert [len(p) for p in parts] == [SHEET_ROWS, SHEET_ROWS, 3]
    assert [r for p in parts for r in p] == rows


def test_the_row_limit_leaves_room_for_the_column_names():
    assert [len(p) for p in sheet_files([["x"]] * 20, 10)] == [9, 9, 2]


def test_nothing_to_send_is_one_empty_file():
    assert sheet_files([], 10) == [[]]


def test_a_large_committee_meets_in_sittings_of_bounded_size_and_fails_one_item():
    agenda = [f"S{i:05d}" for i in range(2_345)]
    got = staff.sittings("TZ-GC-ZJ", 2026, agenda, size=1_000)
    assert [code for code, _, _ in got] == ["TZ-GC-ZJ-2026-01", "TZ-GC-ZJ-2026-02", "TZ-GC-ZJ-2026-03"]
    assert [len(items) for _, items, _ in got] == [1_000, 1_000, 345]
    assert [i for _, items, _ in got for i in items] == agenda   # each once, in order
    assert [failing for _, _, failing in got] == [set(), set(), {"S02344"}]


def test_a_committee_of_two_items_fails_none():
    assert staff.sittings("X", 2026, ["A", "B"]) == [("X-2026-01", ["A", "B"], set())]
