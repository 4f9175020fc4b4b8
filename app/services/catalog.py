"""What Channex holds for a property: its room types, rate plans and OTA channels."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.channex.client import ChannexClient
from app.channex.schemas import RatePlan as ChannexRatePlan
from app.channex.schemas import RoomType as ChannexRoomType
from app.db import utcnow
from app.domain.channel_state import observe
from app.models import Channel, Property, RatePlan, RoomType, SyncStatus
from app.services.channel_delivery import queue_state_delivery
from app.services.channel_events import ChannelChange, insert_channel
from app.services.channel_state import facts_of, go_live, state_changed, store_facts
from app.services.rate_plans import list_rate_plans
from app.services.room_types import list_room_types, require_synced_property
from app.settings import Settings

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
    """The property's channels now, those that became active with this read, and the state
    deliveries it queued ((endpoint, channel) pairs)."""

    channels: list[Channel]
    activated: list[ChannelChange]
    deliveries: list[tuple[int, int]] = field(default_factory=list)


async def sync_channels(
    session: AsyncSession, settings: Settings, channex: ChannexClient, prop: Property
) -> ChannelSync:
    """Read the property's OTA channels from Channex and keep their state here: what GET
    channels answers, and what the periodic refresh does when a webhook was lost. A channel
    seen active for the first time is a new connection, as if its webhook had come: its
    go-live (the full sync owed, the import) is recorded here and the caller asks for the
    follow-up jobs after the commit (the webhook, arriving later, then finds the channel
    active already and does nothing twice)."""
    remote = await channex.list_channels(require_synced_property(prop))
    for item in remote:
        await insert_channel(session, prop.id, item.id, item.channel)
    stmt = select(Channel).where(Channel.property_id == prop.id)
    known = {row.channex_channel_id: row for row in (await session.execute(stmt)).scalars()}
    remote_by_id = {item.id: item for item in remote}
    activated: list[ChannelChange] = []
    deliveries: list[tuple[int, int]] = []
    now = utcnow()
    for ident, row in known.items():
        seen = remote_by_id.get(ident)
        was_active = row.is_active
        if seen is not None:
            row.channel, row.title = seen.channel, seen.title
            row.hotel_id = seen.hotel_id or row.hotel_id
        # Gone from Channex: no longer connected.
        store_facts(row, observe(facts_of(row), seen is not None and seen.is_active))
        row.refreshed_at = now
        if row.is_active and not was_active:
            await go_live(session, row)
            activated.append(ChannelChange(prop.id, ident))
        if state_changed(row):
            queued = await queue_state_delivery(session, settings, row, prop)
            if queued is not None:
                deliveries.append(queued)
    await session.flush()
    channels = sorted(known.values(), key=lambda row: row.channex_channel_id)
    return ChannelSync(channels, activated, deliveries)


async def properties_to_refresh(
    session: AsyncSession, older_than: float, limit: int = 20
) -> list[int]:
    """Properties whose channels were read longest ago, none within `older_than` seconds; at
    most `limit` a round, so that a sweep never costs Channex more than that many reads."""
    cutoff = utcnow() - timedelta(seconds=older_than)
    oldest = func.min(func.coalesce(Channel.refreshed_at, Channel.created_at))
    stmt = (
        select(Channel.property_id)
        .join(Property, Property.id == Channel.property_id)
        .where(Property.channex_property_id.is_not(None), Property.disconnected_at.is_(None))
        .group_by(Channel.property_id)
        .having(func.max(Channel.refreshed_at).is_(None) | (oldest < cutoff))
        .order_by(oldest)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())
