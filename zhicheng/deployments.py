"""The deployments of config/deployments.yaml, built for the Prefect API.

Deployments point at flows by module path (zhicheng.flows.x.y), so a process
worker on any machine with zhicheng installed runs the same code.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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


def deployment_specs(config: Config, *, from_year: int) -> list[DeploymentSpec]:
    data = config.raw["deployments.yaml"]
    tz = data["timezone"]
    periods = {y: (p.opens_on, p.closes_on) for y, p in config.policy.batches.items()}
    specs = []
    for d in data["deployments"]:
        schedules: list[Schedule] = []
        if "cron" in d:
            schedules.append(Cron(d["cron"], timezone=tz))
        if "every_minutes" in d:
            if d.get("during") == "declaration_period":
                schedules += [RRule(r, timezone=tz) for r in
                              period_rrules(d["every_minutes"], periods, from_year=from_year)]
            else:
                schedules.append(Cron(f"*/{d['every_minutes']} * * * *", timezone=tz))
        specs.append(DeploymentSpec(d["name"], d["flow"], d["description"], tuple(schedules),
                                    d.get("concurrency"), d.get("parameters", {})))
    return specs


def build_deployment(spec: DeploymentSpec, *, work_pool: str | None) -> RunnerDeployment:
    flow = import_object(spec.flow)
    return flow.to_deployment(
        name=spec.name, description=spec.description, schedules=list(spec.schedules),
        concurrency_limit=spec.concurrency, parameters=spec.parameters,
        work_pool_name=work_pool, entrypoint_type=EntrypointType.MODULE_PATH,
        tags=["zhicheng"],
    )
