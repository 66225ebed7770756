"""Registering deployments and their work pool with the Prefect API."""
from __future__ import annotations

from prefect import serve
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.exceptions import ObjectAlreadyExists

from zhicheng.bootstrap import build_app
from zhicheng.clock import today
from zhicheng.deployments import build_deployment, deployment_specs


def ensure_work_pool(name: str) -> None:
    with get_client(sync_client=True) as client:
        try:
            client.create_work_pool(WorkPoolCreate(name=name, type="process"))
        except ObjectAlreadyExists:
            pass


def register_deployments(*, pool: str | None) -> list[dict]:
    app = build_app()
    pool = pool or app.config.raw["deployments.yaml"]["work_pool"]
    try:
        ensure_work_pool(pool)
    except Exception as exc:  # the API is unreachable or refuses: say where we looked
        from prefect.settings import PREFECT_API_URL
        raise ConnectionError(f"cannot reach the Prefect API at {PREFECT_API_URL.value() or '(none set)'}: "
                              f"{exc}; set PREFECT_API_URL or start `prefect server start`") from exc
    rows = []
    for spec in deployment_specs(app.config, from_year=today(app.clock).year):
        dep_id = build_deployment(spec, work_pool=pool).apply()
        rows.append({"name": spec.name, "flow": spec.flow, "id": str(dep_id),
                     "concurrency": spec.concurrency,
                     "schedules": [_describe(s) for s in spec.schedules]})
    return rows


def serve_here() -> None:
    app = build_app()
    specs = deployment_specs(app.config, from_year=today(app.clock).year)
    serve(*[build_deployment(s, work_pool=None) for s in specs])


def _describe(schedule) -> str:
    return getattr(schedule, "cron", None) or getattr(schedule, "rrule", "").replace("\n", " ")
