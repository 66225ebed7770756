"""Where the demo's flows run: the one choke point of its script (`FlowRuns.run`).

- `inprocess` (default): each flow is called in the demo's process, a Prefect flow run
  on the API configured (else Prefect's temporary local server).
- `dask`: the same, with the chunked flows' tasks on a Dask LocalCluster
  (zhicheng.runners, ZHICHENG_TASK_RUNNER=dask).
- `workers`: each flow is a run of its deployment (config/deployments.yaml, without
  schedules) in a process work pool, picked up by two `prefect worker` processes of the
  Prefect server at PREFECT_API_URL (docs/scale-out.md). A flow run there gets nothing
  from the demo's process but its parameters (the simulated clock is `as_of`) and the
  workers' environment, as on another machine: the workspace, the database, the
  external systems' URLs. Its summary comes back as its persisted result.
"""
from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

# Flows whose chunks run on zhicheng.runners.chunk_runner (the task runner is chosen
# when the flow is defined, so `dask` hands it over per call).
CHUNKED = ("validate",)
POOL = "zc-demo"
WORKERS = 2


class FlowRuns:
    """Flows called in this process (`inprocess`, or `dask` for the chunked ones)."""

    name = "inprocess"

    def start(self, env: dict[str, str], logs: Path, *, year: int) -> None:
        """Called once the external systems answer (`env`: their URLs and secrets) for the
        demo's `year`."""

    def run(self, flow: Any, **params: Any) -> Any:
        """The flow's summary, also of a run that ended Failed for a person (flows.attention)."""
        from zhicheng.runtime import result_of
        return result_of(self._flow(flow)(**params, return_state=True))

    def _flow(self, flow: Any) -> Any:
        return flow

    def stop(self) -> None:
        """Stop what `start` started."""


class DaskFlowRuns(FlowRuns):
    name = "dask"

    def _flow(self, flow: Any) -> Any:
        from zhicheng.runners import chunk_runner
        return flow.with_options(task_runner=chunk_runner(choice="dask")) if flow.name in CHUNKED else flow


class WorkerFlowRuns(FlowRuns):
    """Flows as deployment runs on `WORKERS` process workers of the API's server."""

    name = "workers"

    def __init__(self) -> None:
        self.workers: list[subprocess.Popen] = []
        self.deployments: dict[str, str] = {}

    def start(self, env: dict[str, str], logs: Path, *, year: int) -> None:
        from prefect.settings import PREFECT_API_URL
        if not PREFECT_API_URL.value():
            raise RuntimeError("the workers runner needs a Prefect server: set PREFECT_API_URL")
        self.deployments = register(POOL, year=year)
        results = logs / "results"   # the flows' results, written by the runs, read here
        results.mkdir(parents=True, exist_ok=True)
        os.environ.update(PREFECT_RESULTS_PERSIST_BY_DEFAULT="true", PREFECT_LOCAL_STORAGE_PATH=str(results))
        worker_env = {**os.environ, **env, "PREFECT_API_URL": str(PREFECT_API_URL.value())}
        bin_dir = Path(sys.executable).parent
        for n in range(1, WORKERS + 1):
            with (logs / f"worker-{n}.log").open("ab") as log:
                self.workers.append(subprocess.Popen(
                    [str(bin_dir / "prefect"), "worker", "start", "--pool", POOL, "--name", f"demo-worker-{n}",
                     "--type", "process"], env=worker_env, stdout=log, stderr=subprocess.STDOUT))

    def run(self, flow: Any, **params: Any) -> Any:
        from prefect.deployments import run_deployment
        from zhicheng.runtime import result_of
        path = f"{flow.fn.__module__}.{flow.fn.__name__}"
        name = self.deployments.get(path)
        if name is None:
            raise LookupError(f"no deployment runs {path} (config/deployments.yaml)")
        for proc in self.workers:
            if proc.poll() is not None:
                raise RuntimeError(f"a prefect worker exited ({proc.returncode}): see worker-*.log")
        run: Any = run_deployment(name, parameters=params, timeout=None, poll_interval=1)   # sync here
        if run.state is None or not run.state.is_final():
            raise RuntimeError(f"flow run {run.id} of {name} ended {run.state}")
        return result_of(run.state)

    def stop(self) -> None:
        for proc in self.workers:
            proc.terminate()
        for proc in self.workers:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def register(pool: str, *, year: int) -> dict[str, str]:
    """The deployments of config/deployments.yaml for `year` in `pool`, without their
    schedules (the demo's script starts every run): flow module path -> "flow/deployment"."""
    from zhicheng.config import get_config
    from zhicheng.deploy import ensure_work_pool
    from zhicheng.deployments import build_deployment, deployment_specs
    ensure_work_pool(pool)
    out = {}
    for spec in deployment_specs(get_config(), from_year=year):
        deployment = build_deployment(dataclasses.replace(spec, schedules=()), work_pool=pool)
        deployment.apply()
        out[spec.flow] = f"{deployment.flow_name}/{deployment.name}"
    return out


def flow_runs(name: str | None = None) -> FlowRuns:
    """The runner named `name` (else ZHICHENG_DEMO_RUNNER, else `inprocess`)."""
    name = name or os.environ.get("ZHICHENG_DEMO_RUNNER") or "inprocess"
    if name not in RUNNERS:
        raise ValueError(f"runner {name!r}: use one of {', '.join(RUNNERS)}")
    return RUNNERS[name]()


# Each runner by its own name, the one --runner and ZHICHENG_DEMO_RUNNER take.
RUNNERS: dict[str, type[FlowRuns]] = {k.name: k for k in (FlowRuns, WorkerFlowRuns, DaskFlowRuns)}
