"""`review import` on both engines: staff files in CSV (UTF-8, BOM, GBK) and XLSX with
Excel's quirks, whole-file refusal listing every bad row, the audit trail, and that no
sequence of imported decisions moves an application off its chain or skips a stage."""
from __future__ import annotations

import csv
import datetime as dt
import json
import random

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from review_data import validated
from stage_data import write_csv, write_xlsx
from zhicheng.cli.main import app as cli
from zhicheng.clock import SHANGHAI
from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import Application, OutboxItem
from zhicheng.files.tables import FileRefused
from zhicheng.review import service as review
from zhicheng.review.imports import import_decisions
from zhicheng.review.models import Decision

HEADER = ["申报编号", "姓名", "环节", "处理结果", "意见", "经办人", "处理单位", "处理时间"]
CHAIN = ["评审申报", "市单位审核、公示", "市行政主管部门审核", "评委会审核", "省/市职称管理部门审核",
         "评前公示", "专家评审", "评后公示", "省/市职称管理部门发证"]
runner = CliRunner()


@pytest.fixture
def three(app):
    """Three 评审 applications of TZ-GC-ZJ (市, 市级, not delegated) at 市单位审核、公示."""
    with unit_of_work(app.sessions) as s:
        for n in (1, 2, 3):
            a = validated(s, app.config, n=n)
            review.enter_chain(session=s, application_id=a.id, now=app.clock.now(), config=app.config)
    app.clock.set(dt.datetime(2026, 6, 5, 18, 0))
    return app


def _import(app, path):
    with unit_of_work(app.sessions) as s:
        return import_decisions(session=s, path=path, config=app.config, now=app.clock.now())


def _apps(app) -> dict[str, Application]:
    with app.sessions() as s:
        out = {a.submission_id: a for a in s.scalars(select(Application))}
        s.expunge_all()
        return out


def _count(app, model) -> int:
    with app.sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


GOOD = [["JS2026000001", "申报人001", "市单位审核、公示", "通过", "", "王芳", "泰州某公司人事处", "2026-06-02 09:30"],
        ["JS2026000001", "申报人001", "市行政主管部门审核", "通过", "同意推荐", "赵强", "泰州市工信局",
         "2026-06-03 10:00"],
        ["JS2026000002", "申报人002", "市单位审核、公示", "退回", "缺少2024年度考核表", "王芳", "泰州某公司人事处",
         "2026/6/2 11:00"],
        ["JS2026000003", "", "市单位审核、公示", "不通过", "任职年限不足", "王芳", "泰州某公司人事处", "2026-06-02"]]


def test_good_file_of_several_stages_is_applied_and_audited(three, tmp_path):
    path = write_csv(tmp_path / "decisions.csv", HEADER, GOOD)  # UTF-8 with BOM
    r = _import(three, path)
    assert (r["applied"], r["by_result"]) == (4, {"approve": 2, "return": 1, "reject": 1})
    apps = _apps(three)
    assert (apps["JS2026000001"].stage, apps["JS2026000001"].status) == ("评委会审核", "in_review")
    assert apps["JS2026000002"].status == "returned" and apps["JS2026000003"].status == "rejected"
    with three.sessions() as s:
        rows = [(d.stage, d.actor, d.office, d.source_file, d.source_row, d.reason)
                for d in s.scalars(select(Decision).order_by(Decision.id))]
        ret = s.scalars(select(OutboxItem).where(OutboxItem.target == "hall_return")).one()
    assert rows[1] == ("市行政主管部门审核", "赵强", "泰州市工信局", "decisions.csv", 3, "同意推荐")
    assert [x[4] for x in rows] == [2, 3, 4, 5]
    assert ret.payload["reasons"][0]["message"] == "缺少2024年度考核表"
    again = _import(three, path)                  # the same file again: recognised, nothing new
    assert (again["applied"], again["already_applied"]) == (0, 4)
    assert _count(three, Decision) == 4 and _count(three, OutboxItem) == 2


def test_bad_rows_refuse_the_whole_file_listing_each_line(three, tmp_path):
    rows = [GOOD[0],
            ["JS2026009999", "", "市单位审核、公示", "通过", "", "王芳", "某处", "2026-06-02 09:30"],   # unknown id
            ["JS2026000002", "", "评委会审核", "通过", "", "王芳", "某处", "2026-06-02 09:30"],        # a skip
            ["JS2026000003", "", "市单位审核、公示", "可以", "", "王芳", "某处", "2026-06-02 09:30"],   # result
            ["JS2026000003", "", "市单位审核、公示", "通过", "", "", "某处", "46176.4"],               # actor, serial
            ["JS2026000002", "", "市单位审核、公示", "退回", "", "王芳", "某处", "2026-06-09 09:00"],   # why, future
            ["JS2026000002", "", "评前公示", "通过", "", "王芳", "某处", "2026-06-02 09:30"],          # machine stage
            ["JS2026000002", "李四", "市单位审核、公示", "通过", "", "王芳", "某处", "2026-06-02 09:30"],  # name
            ["JS2026000001", "", "市单位审核、公示", "通过", "", "王芳", "某处", "2026-06-02 09:30"],   # twice
            ["", "", "", "", "", "", "", ""]]                                                       # blank: ignored
    path = write_csv(tmp_path / "bad.csv", HEADER, rows)
    with pytest.raises(FileRefused) as err:
        _import(three, path)
    by_row: dict[int, str] = {}
    for row, msg in err.value.problems:
        by_row[row] = by_row.get(row, "") + msg
    assert sorted(by_row) == [3, 4, 5, 6, 7, 8, 9, 10]
    assert "JS2026009999 不存在" in by_row[3]
    assert "当前在“市单位审核、公示”环节" in by_row[4]
    assert "无法识别" in by_row[5]
    assert "经办人 为空" in by_row[6] and "日期序列号" in by_row[6]
    assert "晚于导入时间" in by_row[7]
    assert "不是审核环节" in by_row[8]
    assert "申报人不符" in by_row[9]
    assert "已处理过" in by_row[10]
    assert "row 3:" in str(err.value) and "nothing applied" in str(err.value)
    assert _count(three, Decision) == 0 and _count(three, OutboxItem) == 0
    assert {a.stage for a in _apps(three).values()} == {"市单位审核、公示"}


def test_gbk_csv_is_read(three, tmp_path):
    path = tmp_path / "gbk.csv"
    with path.open("w", encoding="gbk", newline="") as fh:
        csv.writer(fh).writerows([HEADER, GOOD[0]])
    assert _import(three, path)["applied"] == 1
    assert _apps(three)["JS2026000001"].stage == "市行政主管部门审核"


def test_xlsx_with_numbers_for_ids_dates_as_cells_and_trailing_blank_rows(app, tmp_path):
    with unit_of_work(app.sessions) as s:
        for n, sid in ((1, "0012345"), (2, "000777"), (3, "00777")):
            a = validated(s, app.config, n=n, submission_id=sid)
            review.enter_chain(session=s, application_id=a.id, now=app.clock.now(), config=app.config)
    app.clock.set(dt.datetime(2026, 6, 5, 18, 0))
    when = dt.datetime(2026, 6, 2, 9, 30)
    row = ["市单位审核、公示", "通过", "", "王芳", "某处", when]
    ambiguous = write_xlsx(tmp_path / "a.xlsx", {"决定": (HEADER, [[12345, "", *row], [777, "", *row],
                                                                   ["1.2345E+4", "", *row]])})
    with pytest.raises(FileRefused) as err:
        _import(app, ambiguous)
    assert [r for r, _ in err.value.problems] == [3, 4]
    assert "000777、00777" in str(err.value) and "科学计数法" in str(err.value)
    good = write_xlsx(tmp_path / "g.xlsx", {"决定": (HEADER, [[12345.0, "申报人001", *row], [None] * 8, [None] * 8])})
    r = _import(app, good)
    assert r["applied"] == 1 and r["restored_ids"] == [{"row": 2, "cell": "12345", "submission_id": "0012345"}]
    with app.sessions() as s:
        d = s.scalars(select(Decision)).one()
    assert d.decided_at == when.replace(tzinfo=SHANGHAI)


def test_no_sequence_of_imported_decisions_leaves_the_chain_or_skips_a_stage(three, tmp_path):
    rnd = random.Random(2026)
    ids = ["JS2026000001", "JS2026000002", "JS2026000003"]
    minute, outcomes = 0, []
    for k in range(16):
        before = {sid: (a.stage_index, a.status) for sid, a in _apps(three).items()}
        guess, rows = {sid: at for sid, (at, _) in before.items()}, []
        for _ in range(rnd.randint(1, 3)):      # mostly plausible rows, now and then a wrong one
            minute += 1
            at = (dt.datetime(2026, 6, 2, 8, 0) + dt.timedelta(minutes=minute)).strftime("%Y-%m-%d %H:%M")
            sid = rnd.choice(ids)
            result = rnd.choice(["通过"] * 6 + ["退回", "不通过"])
            index = guess[sid] if rnd.random() < 0.8 else rnd.randrange(len(CHAIN))
            guess[sid] = index + (result == "通过")
            rows.append([sid, "", CHAIN[min(index, len(CHAIN) - 1)], result,
                         "" if result == "通过" else "理由", "王芳", "某处", at])
        try:
            _import(three, write_csv(tmp_path / f"f{k}.csv", HEADER, rows))
            outcomes.append("applied")
        except FileRefused:
            assert {sid: (a.stage_index, a.status) for sid, a in _apps(three).items()} == before
            outcomes.append("refused")
        _check_on_chain(three)
    assert {"applied", "refused"} <= set(outcomes) and _count(three, Decision) > 0


def _check_on_chain(app):
    with app.sessions() as s:
        for a in s.scalars(select(Application)):
            assert a.chain == CHAIN and a.stage == CHAIN[a.stage_index]
            decided = [d.stage_index for d in s.scalars(select(Decision).where(
                Decision.application_id == a.id).order_by(Decision.id))]
            assert decided == list(range(1, 1 + len(decided)))       # one stage after another
            assert a.stage_index == 1 + len(decided) - (a.status in ("returned", "rejected"))


def test_cli_exit_codes_and_json(three, tmp_path):
    bad = write_csv(tmp_path / "bad.csv", HEADER, [GOOD[0], ["JS2026000002", "", "评委会审核", "通过", "", "王芳",
                                                             "某处", "2026-06-02 09:30"]])
    r = runner.invoke(cli, ["review", "import", str(bad), "--as-of", "2026-06-05T18:00"])
    assert r.exit_code == 2 and "row 3:" in r.output and "row 2:" not in r.output
    good = write_csv(tmp_path / "good.csv", HEADER, GOOD[:2])
    r = runner.invoke(cli, ["review", "import", str(good), "--as-of", "2026-06-05T18:00", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["applied"] == 2


@pytest.mark.parametrize("name", ["review-decisions.csv", "review-decisions.xlsx"])
def test_documented_examples_import(three, name):
    from pathlib import Path
    r = _import(three, Path(__file__).parents[2] / "docs" / "examples" / name)
    assert (r["rows"], r["applied"]) == (4, 4)


def test_utf8_csv_without_bom_with_ids_as_floats_and_blank_rows_keeps_spreadsheet_line_numbers(app, tmp_path):
    """Excel's CSV quirks: no BOM, 申报编号 written as 12345.0, blank rows in the middle
    and at the end. A bad row after a blank one is reported by its spreadsheet line."""
    with unit_of_work(app.sessions) as s:
        for n, sid in ((1, "0012345"), (2, "JS2026000002")):
            a = validated(s, app.config, n=n, submission_id=sid)
            review.enter_chain(session=s, application_id=a.id, now=app.clock.now(), config=app.config)
    app.clock.set(dt.datetime(2026, 6, 5, 18, 0))
    ok = ["市单位审核、公示", "通过", "", "王芳", "某处", "2026-06-02 09:30"]
    blank = [""] * 8
    bad_path = tmp_path / "bad.csv"
    with bad_path.open("w", encoding="utf-8", newline="") as fh:      # no BOM
        csv.writer(fh).writerows([HEADER, ["12345.0", "", *ok], blank,
                                  ["JS2026000002", "", "市单位审核、公示", "通过", "", "王芳", "某处", "下周一"],
                                  blank, blank])
    assert not bad_path.read_bytes().startswith(b"\xef\xbb\xbf")
    with pytest.raises(FileRefused) as err:
        _import(app, bad_path)
    assert [(r, "不是日期时间" in m) for r, m in err.value.problems] == [(4, True)]
    assert _count(app, Decision) == 0
    good_path = tmp_path / "good.csv"
    with good_path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([HEADER, ["12345.0", "", *ok], blank, ["JS2026000002", "", *ok], blank, blank])
    r = _import(app, good_path)
    assert (r["rows"], r["applied"]) == (2, 2)
    assert r["restored_ids"] == [{"row": 2, "cell": "12345.0", "submission_id": "0012345"}]
    with app.sessions() as s:
        assert sorted(d.source_row for d in s.scalars(select(Decision))) == [2, 4]


def test_a_file_in_neither_utf8_nor_gbk_is_refused_not_guessed(three, tmp_path):
    path = tmp_path / "utf16.csv"
    path.write_bytes("\n".join([",".join(HEADER), ",".join(GOOD[0])]).encode("utf-16"))
    with pytest.raises(FileRefused, match="neither UTF-8 nor GBK"):
        _import(three, path)
    assert _count(three, Decision) == 0


def test_a_long_numeric_id_in_xlsx_is_refused_even_when_it_matches(app, tmp_path):
    """Excel keeps 15 significant digits: 202632010000000001 typed as a number is stored
    as 202632010000000000, which may be another application's ID."""
    with unit_of_work(app.sessions) as s:
        for n, sid in ((1, "202632010000000000"), (2, "202632010000000001")):
            a = validated(s, app.config, n=n, submission_id=sid)
            review.enter_chain(session=s, application_id=a.id, now=app.clock.now(), config=app.config)
    app.clock.set(dt.datetime(2026, 6, 5, 18, 0))
    row = ["", "市单位审核、公示", "通过", "", "王芳", "某处", "2026-06-02 09:30"]
    path = write_xlsx(tmp_path / "long.xlsx", {"决定": (HEADER, [[202632010000000000, *row]])})
    with pytest.raises(FileRefused) as err:
        _import(app, path)
    assert [r for r, _ in err.value.problems] == [2] and "文本" in str(err.value)
    assert _count(app, Decision) == 0
    as_text = write_xlsx(tmp_path / "text.xlsx", {"决定": (HEADER, [["202632010000000001", *row]])})
    assert _import(app, as_text)["applied"] == 1
    assert _apps(app)["202632010000000001"].stage == "市行政主管部门审核"


def test_reimporting_a_return_after_the_resubmission_does_not_return_it_again(three, tmp_path):
    from review_data import resubmit
    path = write_csv(tmp_path / "returns.csv", HEADER, [GOOD[2]])      # JS2026000002 退回
    assert _import(three, path)["by_result"]["return"] == 1
    with unit_of_work(three.sessions) as s:
        a = s.scalars(select(Application).where(Application.submission_id == "JS2026000002")).one()
        resubmit(s, a)
        review.enter_chain(session=s, application_id=a.id, now=three.clock.now(), config=three.config)
    with pytest.raises(FileRefused) as err:
        _import(three, path)
    assert [r for r, _ in err.value.problems] == [2] and "第 1 版" in str(err.value)
    a = _apps(three)["JS2026000002"]
    assert (a.status, a.current_revision) == ("in_review", 2)
    assert _count(three, Decision) == 1 and _count(three, OutboxItem) == 1
