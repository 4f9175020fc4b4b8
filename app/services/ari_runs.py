"""Sync runs: the record of every ARI request sent to Channex, and of those that failed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import not_found
from app.metrics import ARI_PUSHES
from app.models import SyncRun, SyncRunChange
from app.services.access import Principal
from app.services.properties import get_property


@dataclass
class RunRecord:
    """What one request sent and what came back; becomes a `sync_run` row."""

    property_id: int
    kind: str
    endpoint: str
    started_at: datetime
    cells: int = 0
    values_count: int = 0
    requests_count: int = 0
    bytes_count: int = 0
    date_from: date | None = None
    date_to: date | None = None
    outcome: str = "success"
    task_ids: list[str] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    duration_ms: int = 0
    full_sync_id: int | None = None
    # The PMS changes whose cells the request sent (a sync_run_change row each).
    change_ids: list[str] = field(default_factory=list)


async def add_run(session: AsyncSession, record: RunRecord) -> SyncRun:
    """The run and the changes it carried, in the caller's transaction (so a change is never
    shown as sent by a run that was not recorded, nor the reverse)."""
    columns = {k: v for k, v in record.__dict__.items() if k != "change_ids"}
    run = SyncRun(**columns)
    session.add(run)
    if record.change_ids:
        await session.flush()  # the run's id
        session.add_all(SyncRunChange(change_id=c, sync_run_id=run.id) for c in record.change_ids)
    ARI_PUSHES.labels(record.endpoint, record.outcome).inc()
    return run


async def list_runs(
    session: AsyncSession, principal: Principal, pms_property_id: str, *, limit: int, offset: int
) -> tuple[Sequence[SyncRun], int]:
    """The property's runs, newest first."""
    prop, _ = await get_property(session, principal, pms_property_id)
    where = SyncRun.property_id == prop.id
    total = (await session.execute(select(func.count()).where(where))).scalar_one()
    stmt = select(SyncRun).where(where).order_by(SyncRun.id.desc()).limit(limit).offset(offset)
    return (await session.execute(stmt)).scalars().all(), total


async def get_run(
    session: AsyncSession, principal: Principal, pms_property_id: str, run_id: int
) -> SyncRun:
    prop, _ = await get_property(session, principal, pms_property_id)
    run = await session.get(SyncRun, run_id)
    if run is None or run.property_id != prop.id:
        raise not_found("sync run", str(run_id))
    return run
