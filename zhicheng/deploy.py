"""Registering deployments and their work pool with the Prefect API."""
from __future__ import annotations

from prefect import serve
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

from zhicheng.bootstrap import app_at
from zhicheng.clock import today
from zhicheng.deployments import build_deployment, deployment_specs


def ensure_work_pool(name: str) -> None:
    with get_client(sync_client=True) as client:
        try:
            client.create_work_pool(WorkPoolCreate(name=name, type="process"))
        except ObjectAlreadyExists:
            pass


def register_deployments(*, pool: str | None) -> list[dict]:
    app = app_at()
    pool = pool or app.config.deployments.work_pool
    try:
        ensure_work_pool(pool)
    except Exception as exc:  # the API is unreachable or refuses: say where we looked
        from prefect.settings import PREFECT_API_URL
        raise ConnectionError(f"cannot reach the Prefect API at {PREFECT_API_URL.value() or '(none set)'}: "
                              f"{exc}; set PREFECT_API_URL or start `prefect server start`") from exc
    rows = []
    with get_client(sync_client=True) as client:
        for spec in deployment_specs(app.config, from_year=today(app.clock).year):
            deployment = build_deployment(spec, work_pool=pool)
            dep_id, done = _registered(client, deployment)
            if dep_id is None:
                dep_id, done = deployment.apply(), "registered"
            rows.append({"name": spec.name, "flow": spec.flow, "id": str(dep_id), "done": done,
                         "concurrency": spec.concurrency,
                         "schedules": [_describe(s) for s in spec.schedules]})
    return rows


def _registered(client, deployment) -> tuple[object | None, str]:
    """(id, "unchanged") when the API holds this very deployment already (its version is
    the fingerprint of what it says): applying it again would replace its scheduled runs
    for nothing. (None, ...) when it is new or changed."""
    try:
        held = client.read_deployment_by_name(f"{deployment.flow_name}/{deployment.name}")
    except ObjectNotFound:
        return None, "new"
    if held.version == deployment.version and held.work_pool_name == deployment.work_pool_name:
        return held.id, "unchanged"
    return None, "changed"


def serve_here() -> None:
    app = app_at()
    specs = deployment_specs(app.config, from_year=today(app.clock).year)
    serve(*[build_deployment(s, work_pool=None) for s in specs])


def _describe(schedule) -> str:
    return getattr(schedule, "cron", None) or getattr(schedule, "rrule", "").replace("\n", " ")


def register_automations() -> list[dict]:
    """The automations of config/automations.yaml (zhicheng.automations)."""
    from zhicheng.automations import ensure_automations
    return ensure_automations(app_at().config)
