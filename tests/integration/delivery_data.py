"""Clients pointed at the stand-ins and outbox counts, for the delivery tests (sample
certificates come from zhicheng.demo.delivery_samples)."""
from __future__ import annotations

from sqlalchemy import func, select

from zhicheng.config import get_config
from zhicheng.connectors.hall import HallClient
from zhicheng.connectors.province import ProvinceClient
from zhicheng.db.models import OutboxItem
from zhicheng.settings import Settings


def settings_for(system: str, server, creds) -> Settings:
    app_id, secret = creds
    return Settings(**{f"{system}_url": server.url, f"{system}_app_id": app_id,
                       f"{system}_app_secret": secret})


def province_client(server, creds, waits: list | None = None, seed: int = 1) -> ProvinceClient:
    return ProvinceClient.from_settings(settings_for("province", server, creds), get_config(),
                                        sleep=(waits if waits is not None else []).append, seed=seed)


def hall_client(server, creds, waits: list | None = None) -> HallClient:
    return HallClient.from_settings(settings_for("hall", server, creds), get_config(),
                                    sleep=(waits if waits is not None else []).append, seed=1)


def statuses(app, target: str = "province") -> dict[str, int]:
    with app.sessions() as s:
        return dict(s.execute(select(OutboxItem.status, func.count()).where(OutboxItem.target == target)
                              .group_by(OutboxItem.status)).all())
