"""Every verb that can act as if it were another time checks --as-of the same way,
before doing anything: exit 2, naming the option, what was typed and the forms it takes."""
import pytest
from typer.testing import CliRunner

from zhicheng.cli.main import app as cli

VERBS = [["intake"], ["education-sync"], ["validate"], ["push"], ["reconcile"], ["issue"], ["quality"],
         ["year-end", "--batch-year", "2026"], ["review", "overdue"], ["publicity", "close-due"],
         ["votes", "tally", "--session", "S1"]]


@pytest.mark.parametrize("verb", VERBS, ids=" ".join)
def test_a_bad_as_of_is_refused_before_any_work(verb, tmp_path, monkeypatch):
    monkeypatch.setenv("ZHICHENG_HOME", str(tmp_path))
    got = CliRunner().invoke(cli, [*verb, "--as-of", "28/12/2026"])
    assert got.exit_code == 2, got.output
    assert "--as-of" in got.output and "28/12/2026" in got.output and "2026/6/3 10:00" in got.output
    assert not (tmp_path / "zhicheng.db").exists()      # refused before touching the database


def test_without_an_offset_as_of_is_shanghai_time():
    from zhicheng.cli.output import moment
    assert moment("2026-12-28T20:00").utcoffset().total_seconds() == 8 * 3600
    assert moment("2026-12-28T12:00:00+00:00") == moment("2026-12-28 20:00")   # the same instant
    assert moment("2026/12/28 20:00") == moment("2026年12月28日 20:00") == moment("2026-12-28T20:00")
    assert moment(None) is None
