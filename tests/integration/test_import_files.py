"""The one reader of staff spreadsheets (review decisions, rosters, sessions, ballots,
objections): every row that is there whatever the XLSX's `<dimension>` tag says, the
limits of policy.yaml `imports` with a refusal naming file, row and limit in bounded
memory, the header found below a title, our own exports read back as exported."""
from __future__ import annotations

import csv
import tracemalloc

import pytest

from crafted_xlsx import add_cell, edit_part, pad, set_dimension
from stage_data import write_csv, write_xlsx
from zhicheng.config import get_config
from zhicheng.files.cjk_documents import write_xlsx as write_titled
from zhicheng.files.spreadsheets import write_csv as write_export_csv
from zhicheng.files.tables import FileRefused, read_table

HEADER = ["会议编号", "申报编号", "专家编号", "表决意见"]
ROWS = [["TZ-2026-01", f"SUB-{n:05d}", f"M{n:02d}", "同意"] for n in range(1, 11)]
LIMITS = get_config().policy.imports
BOUND = 200 * 1024 * 1024    # bytes a read may take at most, however hostile the file


def read(path, limits=LIMITS, **kw):
    return read_table(path, required=HEADER, limits=limits, **kw)


def peak_of(fn):
    """(result or the exception raised, peak bytes Python allocated meanwhile)."""
    tracemalloc.start()
    try:
        try:
            got = fn()
        except FileRefused as exc:
            got = exc
        return got, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def ballots(tmp_path, name="b.xlsx"):
    return write_xlsx(tmp_path / name, {"选票": (HEADER, ROWS)})


def test_a_dimension_tag_smaller_than_the_sheet_reads_every_row(tmp_path):
    path = set_dimension(ballots(tmp_path), "A1:D3")
    rows = read(path)
    assert [r.number for r in rows] == list(range(2, 12))
    assert rows[-1].get("申报编号") == "SUB-00010"


def test_a_huge_dimension_tag_costs_nothing(tmp_path):
    """Tagged A1:XFD8000, openpyxl padded each row to 16,384 cells: 8,000 rows took
    1 GiB, these 3,000 take 384 MB."""
    rows = [["TZ-2026-01", f"SUB-{n:05d}", f"M{n % 15 + 1:02d}", "同意"] for n in range(1, 3000)]
    path = set_dimension(write_xlsx(tmp_path / "b.xlsx", {"选票": (HEADER, rows)}), "A1:XFD8000")
    assert path.stat().st_size < 100_000
    got, peak = peak_of(lambda: read(path))
    assert [r.number for r in got] == list(range(2, 3001)) and peak < BOUND


def test_a_value_far_right_is_refused_naming_the_column_limit(tmp_path):
    path = add_cell(set_dimension(ballots(tmp_path), "A1:XFD8000"), "XFD12", "x")
    err, peak = peak_of(lambda: read(path))
    assert isinstance(err, FileRefused) and peak < BOUND
    assert err.path == str(path) and err.problems[0][0] == 12
    assert "column XFD" in str(err) and "imports.max_columns" in str(err)


def test_a_row_far_below_is_refused_naming_the_row_limit(tmp_path):
    path = add_cell(ballots(tmp_path), "A1048576", "x")
    err, peak = peak_of(lambda: read(path))
    assert isinstance(err, FileRefused) and peak < BOUND
    assert err.problems == [(1048576, err.problems[0][1])] and "imports.max_rows" in str(err)


def test_rows_out_of_order_in_the_xml_are_refused_not_skipped(tmp_path):
    path = add_cell(ballots(tmp_path), "A5", "SUB-99999")   # a second row 5, after row 11
    with pytest.raises(FileRefused, match="row 5 comes again or out of order"):
        read(path)


def test_a_workbook_that_unpacks_beyond_the_limit_is_refused(tmp_path):
    path = pad(ballots(tmp_path), 3 * 1024 * 1024)
    assert path.stat().st_size < 100_000
    with pytest.raises(FileRefused, match=r"unpacks to 3 MB, more than 2 MB \(policy.yaml imports.max_unpacked_mb\)"):
        read(path, LIMITS.model_copy(update={"max_unpacked_mb": 2}))


def test_cells_rows_and_file_size_limits(tmp_path):
    xlsx, csv_file = ballots(tmp_path), write_csv(tmp_path / "b.csv", HEADER, ROWS)
    for path in (xlsx, csv_file):
        with pytest.raises(FileRefused, match=r"more than 30 cells \(policy.yaml imports.max_cells\)"):
            read(path, LIMITS.model_copy(update={"max_cells": 30}))
    with pytest.raises(FileRefused, match=r"row 9: more than 8 rows \(policy.yaml imports.max_rows\)"):
        read(csv_file, LIMITS.model_copy(update={"max_rows": 8}))
    with pytest.raises(FileRefused, match=r"row 9: the sheet goes on below row 8"):
        read(xlsx, LIMITS.model_copy(update={"max_rows": 8}))
    big = tmp_path / "big.csv"
    big.write_text(",".join(HEADER) + "\n" + "x" * (1024 * 1024 + 1), encoding="utf-8")
    with pytest.raises(FileRefused, match=r"big.csv: refused.*\n.*more than 1 MB \(policy.yaml imports.max_file_mb\)"):
        read(big, LIMITS.model_copy(update={"max_file_mb": 1}))


def test_a_csv_the_csv_module_cannot_read_is_refused_not_a_crash(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text(",".join(HEADER) + '\n"' + "x" * 200_000 + '",b,c,d\n', encoding="utf-8")
    with pytest.raises(FileRefused, match="row 2: not readable as CSV"):
        read(path)


def test_the_header_below_a_title_as_our_own_lists_have_it(tmp_path):
    path = write_titled(tmp_path / "list.xlsx", title="评审会议选票", header_lines=["会议编号：TZ-2026-01", "第二行"],
                        columns=HEADER, rows=ROWS)
    rows = read(path)
    assert [r.number for r in rows] == list(range(6, 16))     # title, 2 lines, blank, header: row 5
    assert rows[0].get("申报编号") == "SUB-00001"
    title_csv = tmp_path / "t.csv"
    with title_csv.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows([["泰州市2026年评审会议选票"], [], HEADER, *ROWS])
    assert [r.number for r in read(title_csv)] == list(range(4, 14))


def test_no_header_row_names_the_row_closest_to_one(tmp_path):
    path = write_csv(tmp_path / "b.csv", ["标题"], [[], ["会议编号", "申报编号", "专家"], *ROWS])
    with pytest.raises(FileRefused) as err:
        read(path)
    assert err.value.problems[0][0] == 3
    assert "missing column(s) 专家编号, 表决意见" in err.value.problems[0][1]
    assert "first 10 rows" in err.value.problems[0][1]
    beyond = write_csv(tmp_path / "late.csv", ["标题"], [[]] * 10 + [HEADER, *ROWS])
    with pytest.raises(FileRefused, match="row 1: missing column"):
        read(beyond)


def test_our_guarded_cells_read_back_as_exported(tmp_path):
    hostile = [["=1+2", "-SUB-1", "@M01", "+同意"]]
    for path in (write_export_csv(tmp_path / "e.csv", HEADER, hostile),
                 write_titled(tmp_path / "e.xlsx", title="t", header_lines=[], columns=HEADER, rows=hostile)):
        assert read(path)[0].cells == dict(zip(HEADER, hostile[0], strict=True))


def test_a_cell_reference_that_is_not_one_is_refused_not_a_crash(tmp_path):
    cell = '<row r="12"><c r="12A" t="inlineStr"><is><t>SUB-99999</t></is></c></row>'
    path = edit_part(ballots(tmp_path), lambda xml: xml.replace("</sheetData>", cell + "</sheetData>"))
    with pytest.raises(FileRefused, match="cell reference '12A' in the sheet is not one"):
        read(path)


def test_a_sheet_broken_half_way_is_refused(tmp_path):
    path = edit_part(ballots(tmp_path), lambda xml: xml.replace("</sheetData>", "<row r='99'><c r='A99'>"))
    with pytest.raises(FileRefused, match="not a readable XLSX workbook"):
        read(path)
