"""Thin Prefect task of the expert vote: tally one session (record outcomes, move
applications) and write its report."""
from __future__ import annotations

from typing import Any

from prefect.cache_policies import NONE as NO_CACHE

from zhicheng.db.engine import unit_of_work
from zhicheng.review import service as review
# The pure words the flow composes its artifact and log with:
from zhicheng.review.service import calendar_gap_notes  # noqa: F401
from zhicheng.runtime import task
from zhicheng.bootstrap import app_at
from zhicheng.votes import service as votes
from zhicheng.votes.reports import OUTCOME_WORDS, write_session_report  # noqa: F401


@task(name="votes-tally-session", cache_policy=NO_CACHE)
def tally_session(session_code: str, apply: bool, as_of: str | None) -> dict[str, Any]:
    app = app_at(as_of)
    with unit_of_work(app.sessions) as session:
        if apply:
            result = votes.apply_tally(session=session, session_code=session_code, config=app.config,
                                       now=app.clock.now())
        else:
            result = votes.tally(session=session, session_code=session_code, config=app.config)
        out = app.workspace(app.config.publicity.report_folder)
        result["report"] = write_session_report(session=session, result=result, config=app.config, out_dir=out)
    return {**result, "calendar_gaps": review.take_calendar_gaps()}
