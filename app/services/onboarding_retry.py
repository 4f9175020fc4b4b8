"""Re-driving onboarding that Channex did not take: rows left `error` (or `pending` while
sync was off) are synced again by a job the sweep enqueues, parents before children."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Literal, cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.channex.client import ChannexClient
from app.db import utcnow
from app.models import Organization, Property, RatePlan, RoomType, SyncStatus
from app.services.mapped_entity import Onboarded, sync_mapped
from app.services.organizations import ORGANIZATION
from app.services.properties import PROPERTY
from app.services.rate_plans import RATE_PLAN, channex_parents
from app.services.room_types import ROOM_TYPE
from app.services.rows import lock_row

Kind = Literal["organization", "property", "room_type", "rate_plan"]
MODELS: dict[Kind, type[Onboarded]] = {
    "organization": Organization,
    "property": Property,
    "room_type": RoomType,
    "rate_plan": RatePlan,
}
UNSYNCED = (SyncStatus.ERROR, SyncStatus.PENDING)
# Leave a fresh failure alone for a while: the PMS usually retries its PUT first.
SETTLE = timedelta(seconds=30)


async def list_unsynced(session: AsyncSession) -> list[tuple[Kind, int]]:
    """Every onboarded row that Channex does not hold as we last said, oldest first."""
    found: list[tuple[Kind, int]] = []
    before = utcnow() - SETTLE
    for kind, model in MODELS.items():
        stmt = select(model.id).where(model.sync_status.in_(UNSYNCED), model.updated_at < before)
        if kind in ("organization", "property"):
            stmt = stmt.where(model.disconnected_at.is_(None))  # type: ignore[union-attr]
        rows = await session.execute(stmt.order_by(model.id).limit(100))
        found.extend((kind, ident) for ident in rows.scalars())
    return found


async def resync(session: AsyncSession, channex: ChannexClient, kind: Kind, ident: int) -> bool:
    """Sync one row again; False when it must wait for its parent (or is gone or done)."""
    row = cast(Onboarded | None, await session.get(MODELS[kind], ident))
    if row is None or row.sync_status not in UNSYNCED:
        return False
    await lock_row(session, row)  # re-read under the lock: a concurrent PUT may have synced it
    if row.sync_status not in UNSYNCED:
        return False
    if isinstance(row, Organization):
        await sync_mapped(session, channex, ORGANIZATION, row, None, adopting=False)
        return True
    parents = await _parents(session, row)
    if any(p.sync_status != SyncStatus.SYNCED for p in parents):
        return False
    await _sync_child(session, channex, row, parents)
    return True


async def _parents(
    session: AsyncSession, row: Property | RoomType | RatePlan
) -> Sequence[Organization | Property | RoomType]:
    if isinstance(row, Property):
        return [await session.get_one(Organization, row.organization_id)]
    prop = await session.get_one(Property, row.property_id)
    if isinstance(row, RoomType):
        return [prop]
    return [prop, await session.get_one(RoomType, row.room_type_id)]


async def _sync_child(
    session: AsyncSession,
    channex: ChannexClient,
    row: Property | RoomType | RatePlan,
    parents: Sequence[Organization | Property | RoomType],
) -> None:
    if isinstance(row, Property):
        org = parents[0]
        assert isinstance(org, Organization)
        assert org.channex_group_id is not None
        await sync_mapped(session, channex, PROPERTY, row, org.channex_group_id, adopting=False)
        return
    prop = parents[0]
    assert isinstance(prop, Property)
    assert prop.channex_property_id is not None
    if isinstance(row, RoomType):
        target = prop.channex_property_id
        await sync_mapped(session, channex, ROOM_TYPE, row, target, adopting=False)
        return
    room_type = parents[1]
    assert isinstance(room_type, RoomType)
    in_channex = channex_parents(prop, room_type)
    await sync_mapped(session, channex, RATE_PLAN, row, in_channex, adopting=False)
