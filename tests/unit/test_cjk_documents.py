"""The lists' PDF table: every cell stays inside its column, cut with … when too long."""
import openpyxl
import pymupdf

from zhicheng.files.cjk_documents import A4_LANDSCAPE, MARGIN, write_pdf, write_xlsx


def test_long_cells_are_cut_to_their_column_and_short_ones_kept(tmp_path):
    long_name = "江苏省南京市某某某某某某某某某某研究院有限责任公司第一分公司第二研究所" * 2
    rows = [["JS2026000001", "张三", long_name, "工程"], ["JS2026000002", "李四", "南京大学", "教育"]] * 40
    path = write_pdf(tmp_path / "list.pdf", title="评前公示名单", header_lines=["公示期：5 个工作日"],
                     columns=["申报编号", "姓名", "工作单位", "系列"], rows=rows, widths=[2, 1, 3, 1])
    doc = pymupdf.open(path)
    usable = A4_LANDSCAPE[0] - 2 * MARGIN
    starts = [MARGIN + usable * x / 7 for x in (0, 2, 3, 6)]
    spans = [s for page in doc for b in page.get_text("dict")["blocks"] for line in b.get("lines", [])
             for s in line["spans"]]
    cells = [s for s in spans if s["text"].startswith("江苏省")]
    assert len(cells) == 40 and all(s["text"].endswith("…") for s in cells)
    assert all(s["bbox"][2] <= starts[3] for s in cells)   # never into the next column
    text = "".join(page.get_text() for page in doc)
    assert text.count("南京大学") == 40 and text.count("JS2026000002") == 40 and doc.page_count >= 2


def test_a_titled_sheet_takes_its_rows_once_as_they_come_and_sizes_each_column(tmp_path):
    rows = ([n, "李" * n, None] for n in (1, 12, 40))   # a one-off stream, as a list read from the database
    path = write_xlsx(tmp_path / "list.xlsx", title="评后公示名单", header_lines=["公示期"],
                      columns=["序号", "姓名", "备注"], rows=rows)
    ws = openpyxl.load_workbook(path).active
    assert [[c.value for c in r] for r in ws.iter_rows(min_row=5)] == [[1, "李", None], [12, "李" * 12, None],
                                                                        [40, "李" * 40, None]]
    widths = {col: int(ws.column_dimensions[col].width) for col in "ABC"}   # Excel adds its padding
    assert widths == {"A": 6, "B": 60, "C": 6}   # 2 a character of the longest cell or name, +2, at most 60
