"""`zhicheng show` as staff read it: an application's progress, a title's lineage."""
from __future__ import annotations

import json

from typer.testing import CliRunner

from zhicheng.cli.main import app as cli
from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import Applicant, Application
from zhicheng.demo.issuance_samples import add_approved
from zhicheng.issuance import service as issuance


def test_an_application_and_its_certificate_in_words_masked(app):
    with unit_of_work(app.sessions) as s:
        (app_id,) = add_approved(session=s, config=app.config, count=1)
    with unit_of_work(app.sessions) as s:
        no = issuance.issue_chunk(session=s, ctx=issuance.IssueContext.for_app(app), application_ids=[app_id],
                                  now=app.clock.now()).issued[0]
    with app.sessions() as s:
        a = s.get(Application, app_id)
        sid, id_number = a.submission_id, s.get(Applicant, a.applicant_id).id_number
    text = CliRunner().invoke(cli, ["show", sid])
    assert text.exit_code == 0, text.output
    assert sid in text.stdout and "审核记录" in text.stdout and no in text.stdout
    assert id_number not in text.stdout and id_number[:4] + "*" in text.stdout
    doc = json.loads(CliRunner().invoke(cli, ["show", no, "--json"]).stdout)
    assert doc["kind"] == "certificates" and doc["certificates"][0]["status"] == "valid"
    missing = CliRunner().invoke(cli, ["show", "NO-SUCH-THING", "--json"])
    assert missing.exit_code == 1 and json.loads(missing.stdout)["error"]["exit_code"] == 1
