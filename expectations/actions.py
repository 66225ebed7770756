"""The Checkpoint's own action: record a run's results in zhicheng's history.

`zhicheng quality` records its runs itself (zhicheng.quality.service.publish); a Checkpoint run
from a notebook goes through GX's actions only, so the project's Checkpoint carries
this one too, and a team's runs land in `quality_results` beside the scheduled ones.
Registered with GX when zhicheng.expectations.gx is imported (as the team does).
"""
from __future__ import annotations

import datetime as dt
from typing import Literal, Optional, Union

from great_expectations.checkpoint.actions import ValidationAction
from great_expectations.datasource.fluent.config_str import ConfigStr


class RecordHistoryAction(ValidationAction):
    type: Literal["zhicheng_record_history"] = "zhicheng_record_history"
    database_url: Union[ConfigStr, str]
    database_schema: Optional[str] = None

    def run(self, checkpoint_result, action_context=None) -> dict:
        from zhicheng.db.engine import make_engine, session_factory
        from zhicheng.expectations.runner import check_results
        from zhicheng.expectations import history as quality_history
        url = self._substitute_config_str_if_needed(self.database_url)
        if not url:
            raise ValueError(f"{self.type}: database_url is empty")
        run_id = checkpoint_result.run_id
        moment = run_id.run_time or dt.datetime.now(dt.timezone.utc)
        name = run_id.run_name or f"checkpoint-{moment:%Y%m%dT%H%M%S%f}"
        summaries = []
        for result in checkpoint_result.run_results.values():
            checks = check_results(result.to_json_dict())
            summaries.append({"suite": result.suite_name, "checks": checks})
        engine = make_engine(url, schema=self.database_schema)
        try:
            quality_history.record(session_factory(engine),
                                   {"run_id": name, "as_of": moment.isoformat(), "batch_year": None},
                                   summaries, now=dt.datetime.now(dt.timezone.utc))
        finally:
            engine.dispose()
        return {"run_id": name, "recorded": sum(len(s["checks"]) for s in summaries)}
