"""Availability held after a booking: Channex lowers a room type's availability by itself
when a new booking arrives (channex-api.md §3, always on since 2026), so the desired value
we still hold predates the booking. Pushing it would reopen a sold room. Those cells wait,
visibly, for the PMS's next availability value, which releases them (ari_state._merge)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import utcnow
from app.models.ari import AVAILABILITY, AriCell
from app.services.ari_mappings import lock_ari_state
from app.services.ari_state import AVAILABILITY_FIELD


async def hold_booked_nights(
    session: AsyncSession,
    property_pk: int,
    nights: Iterable[tuple[int, date]],
    *,
    locked: bool = False,
) -> int:
    """Hold the availability cells of these (room type pk, night) pairs; how many were held.

    `pushed` forgets its availability (Channex's is now lower and unknown to us), so the
    PMS's next value is sent whatever it is; until then the cell is not pending.
    `locked`: the caller holds the property's ARI lock already, in this transaction.
    """
    keys = sorted(set(nights))
    if not keys:
        return 0
    # As every writer of cells: a push between its requests then sees that cells moved.
    if not locked:  # once per transaction is enough for that: it bumps ari_state.revision
        await lock_ari_state(session, property_pk)
    stmt = select(AriCell.entity_id, AriCell.stay_date, AriCell.pushed).where(
        AriCell.property_id == property_pk,
        AriCell.kind == AVAILABILITY,
        tuple_(AriCell.entity_id, AriCell.stay_date).in_(keys),
    )
    now = utcnow()
    rows = [
        held_row(property_pk, entity_id, day, pushed, now)
        for entity_id, day, pushed in (await session.execute(stmt)).all()
    ]
    if rows:
        await session.execute(update(AriCell), rows)
    return len(rows)


def held_row(
    property_pk: int, entity_pk: int, day: date, pushed: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """The UPDATE of one availability cell that a booking holds (by primary key): its
    `pushed` without the availability Channex lowered by itself, not pending."""
    return {
        "property_id": property_pk, "kind": AVAILABILITY, "entity_id": entity_pk,
        "stay_date": day, "held_at": now, "dirty": False,
        "pushed": {k: v for k, v in pushed.items() if k != AVAILABILITY_FIELD},
    }  # fmt: skip
