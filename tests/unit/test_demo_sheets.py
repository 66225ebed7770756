"""The files the demo's staff send: bounded, whatever the year's size (issue 25)."""
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
