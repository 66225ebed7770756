"""Flow run names that say what a run does, as the Prefect UI lists them.

A run is named after its stage and the parameters that pick its work (year, committee,
session): `issue-2026-NJ-GC-ZJ`, `votes-tally-S2026-01`. A run without such parameters
(most scheduled runs) is named after its scheduled time in Asia/Shanghai:
`push-12-06-10:20`. Prefect calls these functions when a run starts.
"""
from __future__ import annotations

from collections.abc import Callable

from zhicheng.clock import local


def run_name(stage: str, *keys: str) -> Callable[[], str]:
    """A `flow_run_name` for `stage`: the values of `keys` that are set, else the time."""
    def name() -> str:
        from prefect.runtime import flow_run
        params = flow_run.parameters or {}
        picked = [str(params[k]) for k in keys if params.get(k) not in (None, "")]
        return "-".join([stage, *picked]) if picked else f"{stage}-{scheduled_label()}"
    name.__name__ = f"{stage.replace('-', '_')}_run_name"
    return name


def scheduled_label() -> str:
    return local(scheduled_start()).strftime("%m-%d-%H:%M")


def scheduled_start():
    """When the current run was scheduled to start (now for a run started by hand)."""
    from prefect.runtime import flow_run
    return flow_run.scheduled_start_time
