"""Recording how an entity stands with Channex: synced, failed (and why), missing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import Base, utcnow
from app.models import SyncStatus


def mark_synced(row: Any) -> None:
    row.sync_status = SyncStatus.SYNCED
    row.last_error = None
    row.synced_at = utcnow()


def mark_pending(row: Any) -> None:
    """Stored, but Channex sync is off or not configured: the sweep picks it up later."""
    if row.sync_status != SyncStatus.SYNCED:
        row.sync_status = SyncStatus.PENDING


async def record_failure(
    session: AsyncSession,
    model: type[Base],
    where: dict[str, Any],
    values: dict[str, Any],
    error: str,
) -> None:
    """After a rolled-back attempt: keep the desired values on an existing row and say why
    Channex did not take them. A row that never existed stays absent (nothing half-written)."""
    conditions = [getattr(model, name) == value for name, value in where.items()]
    await session.execute(
        update(model)
        .where(*conditions)
        .values(**values, sync_status=SyncStatus.ERROR, last_error=error[:2000])
    )
