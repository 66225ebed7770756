"""Reference data from config/ mirrored into the database (committees, batches),
so foreign keys and reports can rely on it. Safe to run any number of times."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhicheng.config import Config
from zhicheng.db.models import Batch, Committee

NO_COMMITTEE = "-"


def sync_reference_data(*, session: Session, config: Config) -> dict[str, int]:
    """Upsert committees and batches from config; returns how many of each exist."""
    for c in config.committees.values():
        row = session.get(Committee, c.id) or Committee(id=c.id)
        row.name, row.tier, row.region_code = c.name, c.tier, c.region_code
        row.delegated, row.issuer_name, row.series = c.delegated, c.issuer_name, c.series
        row.specialties, row.levels, row.covered_regions = c.specialties, c.levels, c.covered_regions
        session.add(row)
    session.flush()
    for year, period in config.policy.batches.items():
        keys = [NO_COMMITTEE] + [c.id for c in config.committees.values() if year in c.open_years]
        for key in keys:
            _upsert_batch(session=session, year=year, key=key, opens_on=period.opens_on, closes_on=period.closes_on)
    session.flush()
    return {"committees": len(config.committees),
            "batches": len(session.scalars(select(Batch.id)).all())}


def _upsert_batch(*, session: Session, year: int, key: str, opens_on, closes_on) -> None:
    row = session.scalars(select(Batch).where(Batch.year == year, Batch.committee_key == key)).first()
    if row is None:
        row = Batch(year=year, committee_key=key)
    row.opens_on, row.closes_on = opens_on, closes_on
    session.add(row)
