"""The deployments of config/deployments.yaml, built for the Prefect API.

Deployments point at flows by module path (zhicheng.flows.x.y), so a process
worker on any machine with zhicheng installed runs the same code.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from prefect._internal.versioning import VersionType
from prefect.deployments.runner import EntrypointType, RunnerDeployment
from prefect.schedules import Cron, RRule, Schedule
from prefect.utilities.importtools import import_object

from zhicheng.config import Config
from zhicheng.domain.schedules import period_rrules


@dataclass(frozen=True)
class DeploymentSpec:
    name: str
    flow: str
    description: str
    schedules: tuple[Schedule, ...]
    concurrency: int | None
    parameters: dict[str, Any]
    stage: str = ""


def deployment_specs(config: Config, *, from_year: int) -> list[DeploymentSpec]:
    data = config.deployments
    tz = data.timezone
    periods = {"declaration_period": {y: (p.opens_on, p.closes_on) for y, p in config.policy.batches.items()}}
    specs = []
    for d in data.deployments:   # `during` and its every_minutes: checked by the model
        schedules: list[Schedule] = []
        if d.cron is not None:
            schedules.append(Cron(d.cron, timezone=tz))
        if d.every_minutes is not None:
            if d.during is not None:
                schedules += [RRule(r, timezone=tz) for r in
                              period_rrules(d.every_minutes, periods[d.during], from_year=from_year)]
            else:
                schedules.append(Cron(f"*/{d.every_minutes} * * * *", timezone=tz))
        specs.append(DeploymentSpec(d.name, d.flow, d.description, tuple(schedules),
                                    d.concurrency, dict(d.parameters), d.stage))
    return specs


def deployment_name(config: Config, flow_path: str) -> str | None:
    """The name config/deployments.yaml gives the deployment of the flow at `flow_path`;
    None when none runs it."""
    return next((d.name for d in config.deployments.deployments if d.flow == flow_path), None)


def build_deployment(spec: DeploymentSpec, *, work_pool: str | None) -> RunnerDeployment:
    """The deployment as the API will hold it; its `version` is a fingerprint of what it
    says (flow, parameters and their schema, schedules, tags...), so `zhicheng serve` can
    leave an unchanged deployment alone (re-applying one replaces its scheduled runs)."""
    flow = import_object(spec.flow)
    deployment = flow.to_deployment(
        name=spec.name, description=spec.description, schedules=list(spec.schedules),
        concurrency_limit=spec.concurrency, parameters=spec.parameters,
        work_pool_name=work_pool, entrypoint_type=EntrypointType.MODULE_PATH,
        tags=["zhicheng", *([spec.stage] if spec.stage else [])],
        # ours, not inferred: in a clone with an origin Prefect would put the commit there
        version_type=VersionType.SIMPLE,
    )
    deployment.version = fingerprint(deployment)
    return deployment


def fingerprint(deployment: RunnerDeployment) -> str:
    said = deployment.model_dump(mode="json", include={
        "name", "flow_name", "description", "tags", "schedules", "concurrency_limit", "parameters",
        "entrypoint", "work_pool_name", "enforce_parameter_schema"})
    said["schema"] = deployment._parameter_openapi_schema.model_dump(mode="json")
    blob = json.dumps(said, sort_keys=True, ensure_ascii=False, default=str)
    return "zc-" + hashlib.sha256(blob.encode()).hexdigest()[:12]
