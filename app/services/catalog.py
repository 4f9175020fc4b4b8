"""What Channex holds for a property: its room types, rate plans and OTA channels."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.channex.client import ChannexClient
from app.channex.schemas import RatePlan as ChannexRatePlan
from app.channex.schemas import RoomType as ChannexRoomType
from app.models import Channel, Property, RatePlan, RoomType, SyncStatus
from app.services.ari_full_syncs import request_full_sync
from app.services.channel_events import ChannelChange, insert_channel
from app.services.rate_plans import list_rate_plans
from app.services.room_types import list_room_types, require_synced_property

T = TypeVar("T", RoomType, RatePlan)


@dataclass(frozen=True)
class RefreshOutcome:
    room_types_missing: list[str]
    rate_plans_missing: list[str]
    restored: int


async def list_channex_room_types(
    session: AsyncSession, channex: ChannexClient, prop: Property
) -> list[tuple[ChannexRoomType, str | None]]:
    """Channex's room types of the property, each with the PMS room type mapped to it."""
    remote = await channex.list_room_types(require_synced_property(prop))
    mapped = {
        rt.channex_room_type_id: rt.pms_room_type_id
        for rt in await list_room_types(session, prop.id)
    }
    return [(item, mapped.get(item.id)) for item in remote]


async def list_channex_rate_plans(
    session: AsyncSession, channex: ChannexClient, prop: Property
) -> list[tuple[ChannexRatePlan, str | None]]:
    """Channex's rate plans of the property, each with the PMS rate plan mapped to it."""
    remote = await channex.list_rate_plans(require_synced_property(prop))
    mapped = {
        rp.channex_rate_plan_id: rp.pms_rate_plan_id
        for rp, _ in await list_rate_plans(session, prop.id)
    }
    return [(item, mapped.get(item.id)) for item in remote]


async def refresh_mappings(
    session: AsyncSession, channex: ChannexClient, prop: Property
) -> RefreshOutcome:
    """Mark mappings whose Channex side is gone as missing, and restore those found again."""
    channex_property_id = require_synced_property(prop)
    remote_rooms = {item.id for item in await channex.list_room_types(channex_property_id)}
    remote_rates = {item.id for item in await channex.list_rate_plans(channex_property_id)}
    rooms = await list_room_types(session, prop.id)
    rates = [rate_plan for rate_plan, _ in await list_rate_plans(session, prop.id)]
    missing_rooms, restored_rooms = _mark(rooms, remote_rooms, lambda r: r.channex_room_type_id)
    missing_rates, restored_rates = _mark(rates, remote_rates, lambda r: r.channex_rate_plan_id)
    await session.flush()
    return RefreshOutcome(
        room_types_missing=[r.pms_room_type_id for r in missing_rooms],
        rate_plans_missing=[r.pms_rate_plan_id for r in missing_rates],
        restored=restored_rooms + restored_rates,
    )


def _mark(
    rows: Sequence[T], remote_ids: set[str], channex_id: Callable[[T], str | None]
) -> tuple[list[T], int]:
    missing: list[T] = []
    restored = 0
    for row in rows:
        ident = channex_id(row)
        if ident is None:
            continue
        if ident not in remote_ids:
            row.sync_status = SyncStatus.MISSING
            row.last_error = "the Channex entity no longer exists"
            missing.append(row)
        elif row.sync_status == SyncStatus.MISSING:
            row.sync_status = SyncStatus.SYNCED
            row.last_error = None
            restored += 1
    return missing, restored


@dataclass(frozen=True)
class ChannelSync:
    """The property's channels now, and those that became active with this read."""

    channels: list[Channel]
    activated: list[ChannelChange]


async def sync_channels(
    session: AsyncSession, channex: ChannexClient, prop: Property
) -> ChannelSync:
    """Read the property's OTA channels from Channex and keep their state here. A channel seen
    active for the first time is a new connection, as if its webhook had come: the full sync
    is owed here and the caller asks for the follow-up jobs after the commit (the webhook,
    arriving later, then finds the channel active already and does nothing twice)."""
    remote = await channex.list_channels(require_synced_property(prop))
    for item in remote:
        await insert_channel(session, prop.id, item.id, item.channel)
    stmt = select(Channel).where(Channel.property_id == prop.id)
    known = {row.channex_channel_id: row for row in (await session.execute(stmt)).scalars()}
    activated = []
    for item in remote:
        row = known[item.id]
        if item.is_active and not row.is_active:
            activated.append(ChannelChange(prop.id, item.id))
        row.channel, row.title, row.is_active = item.channel, item.title, item.is_active
    remote_ids = {item.id for item in remote}
    for ident, row in known.items():
        if ident not in remote_ids:
            row.is_active = False  # gone from Channex: no longer connected
    if activated:
        await request_full_sync(session, prop.id)
    await session.flush()
    channels = sorted(known.values(), key=lambda row: row.channex_channel_id)
    return ChannelSync(channels, activated)
