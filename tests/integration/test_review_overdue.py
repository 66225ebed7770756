"""Overdue stages on both engines: deadlines on the working-day calendar, the office that
must act, the XLSX report, the CLI exit code and the flow's table artifact."""
from __future__ import annotations

import datetime as dt
import json

import openpyxl
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from review_data import validated
from stage_data import attach_employer, employer
from zhicheng.cli.main import app as cli
from zhicheng.clock import SHANGHAI
from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import Employer
from zhicheng.review import service as review
from zhicheng.review.models import ReviewStep
from zhicheng.review.overdue import overdue_report

runner = CliRunner()


@pytest.fixture
def waiting(app):
    """Entered Mon 2026-06-01 09:00 (due 24:00 of 06-23); no. 2 moved on on 06-20,
    no. 3's deadline is missing (as when the calendar lacked the year)."""
    with unit_of_work(app.sessions) as s:
        ids = []
        for n in (1, 2, 3):
            a = validated(s, app.config, n=n)
            attach_employer(a, employer(s, n, f"泰州第{n}电力公司"))
            review.enter_chain(session=s, application_id=a.id, now=app.clock.now(), config=app.config)
            ids.append(a.id)
        review.decide(session=s, application_id=ids[1], stage="市单位审核、公示", action="approve", actor="王芳",
                      office="人事处", reason=None, decided_at=dt.datetime(2026, 6, 20, 10, 0, tzinfo=SHANGHAI),
                      now=dt.datetime(2026, 6, 20, 10, 0, tzinfo=SHANGHAI), config=app.config)
        s.scalars(select(ReviewStep).where(ReviewStep.application_id == ids[2])).one().due_at = None
    app.clock.set(dt.datetime(2026, 6, 26, 10, 0))
    return app


def test_overdue_lists_late_steps_per_office_and_writes_the_report(waiting):
    r = overdue_report(waiting)
    got = [(x["submission_id"], x["office"], x["stage"], x["days_overdue"]) for x in r["rows"]]
    assert got == [("JS2026000001", "泰州第1电力公司", "市单位审核、公示", 3),   # 06-24, 25, 26
                   ("JS2026000003", "泰州第3电力公司", "市单位审核、公示", 3)]
    with waiting.sessions() as s:   # the missing deadline was filled in
        assert all(step.due_at is not None for step in s.scalars(select(ReviewStep)))
    wb = openpyxl.load_workbook(r["xlsx"])
    assert wb.sheetnames == ["超期办件", "按单位汇总"]
    cells = [c for row in wb["超期办件"].iter_rows(values_only=True) for c in row if c]
    assert "JS2026000001" in cells and "JS2026000002" not in cells
    assert r["xlsx"].startswith(str(waiting.settings.home / "reports" / "review"))
    assert _per_office(wb) == {"泰州第1电力公司": 1, "泰州第3电力公司": 1}


def _per_office(wb) -> dict:
    """The 按单位汇总 sheet as {office: count} (below its title lines)."""
    rows = [r for r in wb["按单位汇总"].iter_rows(values_only=True) if any(c is not None for c in r)]
    start = next(i for i, r in enumerate(rows) if r[:2] == ("单位", "超期办件数")) + 1
    return {r[0]: r[1] for r in rows[start:]}


def test_the_report_counts_per_office_across_stages(waiting):
    """Two applications of one employer late at 单位审核 and one at the department's
    stage: the summary counts each office's own, and the report sheet lists all three."""
    with unit_of_work(waiting.sessions) as s:
        a = validated(s, waiting.config, n=4)
        attach_employer(a, s.scalars(select(Employer).where(Employer.name == "泰州第1电力公司")).one())
        review.enter_chain(session=s, application_id=a.id, now=dt.datetime(2026, 6, 1, 9, 0, tzinfo=SHANGHAI),
                           config=waiting.config)
        step = s.scalars(select(ReviewStep).where(ReviewStep.stage == "市行政主管部门审核")).one()
        step.due_at = dt.datetime(2026, 6, 22, tzinfo=SHANGHAI)
    r = overdue_report(waiting)
    wb = openpyxl.load_workbook(r["xlsx"])
    assert _per_office(wb) == {"泰州第1电力公司": 2, "泰州第3电力公司": 1, "泰州市行政主管部门": 1}
    listed = [c for row in wb["超期办件"].iter_rows(values_only=True) for c in row if c]
    assert listed.count("JS2026000001") == listed.count("JS2026000004") == 1
    assert sum(_per_office(wb).values()) == len(r["rows"]) == 4


def test_office_of_later_stages(waiting):
    with unit_of_work(waiting.sessions) as s:
        step = s.scalars(select(ReviewStep).where(ReviewStep.stage == "市行政主管部门审核")).one()
        step.due_at = dt.datetime(2026, 6, 22, tzinfo=SHANGHAI)
    offices = {x["stage"]: x["office"] for x in overdue_report(waiting)["rows"]}
    assert offices["市行政主管部门审核"] == "泰州市行政主管部门"


def test_cli_exit_1_when_overdue_and_0_when_none(waiting):
    r = runner.invoke(cli, ["review", "overdue", "--as-of", "2026-06-26T10:00", "--json"])
    assert r.exit_code == 1, r.output
    assert len(json.loads(r.output)["rows"]) == 2
    r = runner.invoke(cli, ["review", "overdue", "--as-of", "2026-06-10T10:00"])
    assert r.exit_code == 0, r.output


def test_flow_publishes_table_artifact(waiting, prefect_harness):
    from prefect.artifacts import Artifact

    from zhicheng.flows.review import review_overdue
    summary = review_overdue(as_of="2026-06-26T10:00:00+08:00")
    assert [x["submission_id"] for x in summary["rows"]] == ["JS2026000001", "JS2026000003"]
    artifact = Artifact.get("review-overdue")
    table = json.loads(artifact.data) if isinstance(artifact.data, str) else artifact.data
    assert [(r["单位"], r["申报编号"], r["超期工作日"]) for r in table] == [
        ("泰州第1电力公司", "JS2026000001", 3), ("泰州第3电力公司", "JS2026000003", 3)]
    assert summary["xlsx"] in artifact.description
    assert _per_office(openpyxl.load_workbook(summary["xlsx"])) == {"泰州第1电力公司": 1, "泰州第3电力公司": 1}


def test_the_overdue_report_filled_in_by_the_office_imports_as_decisions(waiting, tmp_path):
    """Our own export, title rows and all, is a decisions file once the office adds
    its columns: the header is found below the title (issue 26)."""
    from zhicheng.review.imports import import_decisions
    r = overdue_report(waiting)
    wb = openpyxl.load_workbook(r["xlsx"])
    ws = wb["超期办件"]
    header = next(row[0].row for row in ws.iter_rows() if row[0].value == "单位")
    assert header > 1                                     # below the title and its lines
    for k, name in enumerate(["处理结果", "经办人", "处理单位", "处理时间"]):
        ws.cell(header, 9 + k, name)
        for row in range(header + 1, ws.max_row + 1):
            ws.cell(row, 9 + k, ["通过", "王芳", "泰州第1电力公司人事处", "2026-06-26 09:00"][k])
    wb.save(tmp_path / "filled.xlsx")
    with unit_of_work(waiting.sessions) as s:
        got = import_decisions(session=s, path=tmp_path / "filled.xlsx", config=waiting.config, now=waiting.clock.now())
    assert got["applied"] == 2
    assert overdue_report(waiting)["rows"] == []
