"""What the ARI engine needs to know about a property: its mappings, its dates, its lock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import utcnow
from app.models import AriState, Property, RatePlan, RoomType
from app.services.rows import insert_ignore

# Channex's day rolls at 02:00 property time (channex-api.md §6.5): before that, yesterday is
# still "today" and still writable.
DAY_ROLL = timedelta(hours=2)


def channex_today(timezone: str, now: datetime) -> date:
    """The property's current date as Channex counts it."""
    return (now.astimezone(ZoneInfo(timezone)) - DAY_ROLL).date()


def horizon(prop: Property, now: datetime) -> tuple[date, date]:
    """First and last writable dates: today .. today + state_length - 1 (§6.5)."""
    today = channex_today(prop.timezone, now)
    return today, today + timedelta(days=prop.state_length - 1)


@dataclass(frozen=True)
class Mappings:
    """Room types and rate plans of one property, by primary key and by PMS id."""

    room_types: dict[int, RoomType]
    rate_plans: dict[int, RatePlan]

    def room_type_by_pms(self, pms_room_type_id: str) -> RoomType | None:
        return next(
            (rt for rt in self.room_types.values() if rt.pms_room_type_id == pms_room_type_id),
            None,
        )

    def rate_plan_by_pms(self, room_type_pk: int, pms_rate_plan_id: str) -> RatePlan | None:
        return next(
            (
                rp
                for rp in self.rate_plans.values()
                if rp.room_type_id == room_type_pk and rp.pms_rate_plan_id == pms_rate_plan_id
            ),
            None,
        )

    def channex_id(self, kind: str, entity_pk: int) -> str | None:
        """The Channex room type (availability) or rate plan (restrictions) id of a cell."""
        if kind == "availability":
            room_type = self.room_types.get(entity_pk)
            return room_type.channex_room_type_id if room_type else None
        rate_plan = self.rate_plans.get(entity_pk)
        return rate_plan.channex_rate_plan_id if rate_plan else None

    def pms_ids(self, kind: str, entity_pk: int) -> tuple[str, str | None]:
        """(PMS room type id, PMS rate plan id or None) of a cell's entity."""
        if kind == "availability":
            return self.room_types[entity_pk].pms_room_type_id, None
        rate_plan = self.rate_plans[entity_pk]
        return self.room_types[rate_plan.room_type_id].pms_room_type_id, rate_plan.pms_rate_plan_id

    def knows(self, kind: str, entity_pk: int) -> bool:
        table = self.room_types if kind == "availability" else self.rate_plans
        return entity_pk in table


async def load_mappings(session: AsyncSession, property_pk: int) -> Mappings:
    """Every room type and rate plan of the property (a few dozen at most)."""
    room_types = (
        await session.execute(select(RoomType).where(RoomType.property_id == property_pk))
    ).scalars()
    rate_plans = (
        await session.execute(select(RatePlan).where(RatePlan.property_id == property_pk))
    ).scalars()
    return Mappings({rt.id: rt for rt in room_types}, {rp.id: rp for rp in rate_plans})


async def lock_ari_state(session: AsyncSession, property_pk: int) -> AriState:
    """The property's ARI state row, write-locked until commit (created when missing).

    A write rather than SELECT ... FOR UPDATE so that SQLite serializes too: two batches of one
    property, or a batch and a push recording its result, never interleave their read-merge-write.
    Each taking bumps `revision`, which tells a push whether anyone else took it since its own.
    """
    await insert_ignore(session, AriState, {"property_id": property_pk})
    await session.execute(
        update(AriState)
        .where(AriState.property_id == property_pk)
        .values(updated_at=utcnow(), revision=AriState.revision + 1)
        .execution_options(synchronize_session=False)
    )
    state = await session.get(AriState, property_pk, populate_existing=True)
    assert state is not None  # inserted above
    return state
