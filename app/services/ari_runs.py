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
from app.models import SyncRun
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


def add_run(session: AsyncSession, record: RunRecord) -> SyncRun:
    run = SyncRun(**record.__dict__)
    session.add(run)
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
