"""Where the demo's flows run (zhicheng.demo.flow_runs): each runner can run every flow
of the script; the real runs are tests/e2e/test_scale_out_cycle.py and bench/cycle."""
import pytest

from zhicheng.config import get_config
from zhicheng.demo.flow_runs import DaskFlowRuns, FlowRuns, WorkerFlowRuns, flow_runs
from zhicheng.deployments import deployment_specs
from zhicheng.flows.delivery import push
from zhicheng.flows.education import education_sync
from zhicheng.flows.intake import intake
from zhicheng.flows.publicity import publicity_close_due
from zhicheng.flows.validation import validate
from zhicheng.flows.year_end import year_end

SCRIPT_FLOWS = (intake, education_sync, validate, push, publicity_close_due, year_end)


def test_every_flow_of_the_script_has_a_deployment_the_workers_can_run():
    deployed = {s.flow for s in deployment_specs(get_config(), from_year=2026)}
    assert {f"{f.fn.__module__}.{f.fn.__name__}" for f in SCRIPT_FLOWS} <= deployed


def test_dask_takes_only_the_chunked_flows_off_their_threads():
    runs = DaskFlowRuns()
    assert type(runs._flow(validate).task_runner).__name__ == "DaskTaskRunner"
    assert runs._flow(intake) is intake


def test_a_runner_is_chosen_by_name_or_environment(monkeypatch):
    monkeypatch.delenv("ZHICHENG_DEMO_RUNNER", raising=False)
    assert type(flow_runs()) is FlowRuns
    monkeypatch.setenv("ZHICHENG_DEMO_RUNNER", "workers")
    assert isinstance(flow_runs(), WorkerFlowRuns)
    assert isinstance(flow_runs("dask"), DaskFlowRuns)
    with pytest.raises(ValueError, match="inprocess, workers, dask"):
        flow_runs("threads")
