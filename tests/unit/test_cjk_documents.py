"""The lists' PDF table: every cell stays inside its column, cut with … when too long."""
import pymupdf

from zhicheng.files.cjk_documents import A4_LANDSCAPE, MARGIN, write_pdf


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
