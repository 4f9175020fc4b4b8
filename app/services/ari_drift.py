"""Drift: read Channex's ARI back, compare it with what we last pushed, repair only what differs.

`pushed` is what Channex last accepted from us, so a cell whose readable fields Channex now holds
differently was changed inside Channex (or lost). Repair never resends the horizon: it sets
`pushed` to what Channex holds for exactly those fields, which makes the cells differ from
`desired` again, so the normal push sends them (and only them) with its usual compression.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.channex.client import ChannexClient
from app.db import utcnow
from app.domain.ari_drift import READABLE_RESTRICTIONS, field_drift
from app.errors import FieldError, invalid
from app.models import AriCell, AriState, Property
from app.models.ari import AVAILABILITY
from app.services.access import Principal
from app.services.ari_mappings import Mappings, horizon, load_mappings, lock_ari_state
from app.services.ari_state import differs, read_cells
from app.services.properties import get_property
from app.services.room_types import require_synced_property

# Channex reads at most this many days at once (§6.1; longest horizon is 730 days).
MAX_SPAN_DAYS = 730

Held = dict[tuple[str, str], dict[date, dict[str, Any]]]  # (kind, Channex id) → date → fields


@dataclass(frozen=True)
class Difference:
    kind: str
    entity_pk: int
    day: date
    field: str
    pushed: Any
    channex: Any


@dataclass(frozen=True)
class Drift:
    prop: Property
    mappings: Mappings
    date_from: date
    date_to: date
    checked_cells: int
    differences: list[Difference]
    repaired: bool
    # Cells were written while Channex was read (a push recording its answer, say): the
    # readback may predate them, so nothing was compared or repaired; check again.
    stale: bool = False


async def check_drift(
    session: AsyncSession,
    channex: ChannexClient,
    principal: Principal,
    pms_property_id: str,
    date_from: date,
    date_to: date,
    *,
    repair: bool = False,
    now: datetime | None = None,
) -> Drift:
    """Compare Channex with what we pushed on those dates (within the horizon); with `repair`,
    mark exactly the differing cells for the next push (the caller commits, then enqueues)."""
    if date_to < date_from or (date_to - date_from).days >= MAX_SPAN_DAYS:
        error = FieldError("query.to", f"from ≤ to, at most {MAX_SPAN_DAYS} days", "range")
        raise invalid("bad date range", [error])
    prop, _ = await get_property(session, principal, pms_property_id)
    require_synced_property(prop)
    return await _check(session, channex, prop, date_from, date_to, repair, now or utcnow())


async def check_property_drift(
    session: AsyncSession,
    channex: ChannexClient,
    property_pk: int,
    *,
    repair: bool,
    now: datetime | None = None,
    span: tuple[date, date] | None = None,
) -> Drift | None:
    """The nightly check (the whole horizon) or an `ari` webhook's (`span`, within the
    horizon), recorded on the property's ARI state (None when the property is gone or not
    connected)."""
    prop = await session.get(Property, property_pk)
    if prop is None or prop.disconnected_at is not None or prop.channex_property_id is None:
        return None
    now = now or utcnow()
    first, last = span or horizon(prop, now)
    drift = await _check(session, channex, prop, first, last, repair, now, guard=repair)
    state = await lock_ari_state(session, property_pk)
    if not drift.stale:
        state.drift_checked_at = now
        state.drift_differences = len(drift.differences)
    await session.flush()
    return drift


async def _check(
    session: AsyncSession,
    channex: ChannexClient,
    prop: Property,
    date_from: date,
    date_to: date,
    repair: bool,
    now: datetime,
    *,
    guard: bool = False,
) -> Drift:
    """With `guard` (the jobs' repairs): a check that another writer of the property's cells
    overlapped comes back `stale`, nothing compared. Every writer takes the ARI lock, which
    bumps `ari_state.revision`: the revision just above the one read before Channex was read
    means nobody wrote in between. Without it, a push recording its answer meanwhile looked
    like drift, and its values were marked to be sent again."""
    assert prop.channex_property_id is not None  # callers check the property is connected
    mappings = await load_mappings(session, prop.id)
    first, last = horizon(prop, now)
    lo, hi = max(date_from, first), min(date_to, last)
    if lo > hi:  # nothing writable on those dates: nothing to compare or repair
        return Drift(prop, mappings, date_from, date_to, 0, [], repair)
    revision = select(AriState.revision).where(AriState.property_id == prop.id)
    before = (await session.scalar(revision) or 0) if guard else None
    held = await _read_channex(channex, prop.channex_property_id, lo, hi)
    if repair:
        state = await lock_ari_state(session, prop.id)
        if before is not None and state.revision != before + 1:
            return Drift(prop, mappings, date_from, date_to, 0, [], repair, stale=True)
    cells = [c for c in await read_cells(session, prop.id, lo, hi) if c.pushed]
    differences = _compare(cells, mappings, held)
    if repair and differences:
        await _mark(session, prop.id, cells, differences)
    return Drift(prop, mappings, date_from, date_to, len(cells), differences, repair)


async def _read_channex(channex: ChannexClient, property_id: str, lo: date, hi: date) -> Held:
    """Both endpoints read back; these reads share the ARI rate limit with writes (§6.5)."""
    availability = await channex.get_availability(property_id, lo, hi)
    restrictions = await channex.get_restrictions(property_id, lo, hi, READABLE_RESTRICTIONS)
    held: Held = {
        (AVAILABILITY, room): {day: {"availability": n} for day, n in days.items()}
        for room, days in availability.items()
    }
    held |= {("restrictions", plan): days for plan, days in restrictions.items()}
    return held


def _compare(cells: list[AriCell], mappings: Mappings, held: Held) -> list[Difference]:
    differences = []
    for cell in cells:
        channex_id = mappings.channex_id(cell.kind, cell.entity_id)
        if channex_id is None:
            continue  # unmapped since: nothing of ours to compare in Channex
        there = held.get((cell.kind, channex_id), {}).get(cell.stay_date, {})
        for name, value in field_drift(cell.pushed, there).items():
            differences.append(
                Difference(
                    cell.kind, cell.entity_id, cell.stay_date, name, cell.pushed[name], value
                )
            )
    return differences


async def _mark(
    session: AsyncSession, property_pk: int, cells: list[AriCell], differences: list[Difference]
) -> None:
    """pushed := what Channex holds, for the drifted fields only; the cells become dirty."""
    found: dict[tuple[str, int, date], dict[str, Any]] = {}
    for d in differences:
        found.setdefault((d.kind, d.entity_pk, d.day), {})[d.field] = d.channex
    rows = []
    for cell in cells:
        drifted = found.get((cell.kind, cell.entity_id, cell.stay_date))
        if drifted is None:
            continue
        # A field Channex did not return is dropped from `pushed`: it is unknown, so resent.
        pushed = {k: v for k, v in {**cell.pushed, **drifted}.items() if v is not None}
        rows.append(
            {
                "property_id": property_pk, "kind": cell.kind, "entity_id": cell.entity_id,
                "stay_date": cell.stay_date, "pushed": pushed, "failure": None,
                "dirty": cell.held_at is None and differs(cell.desired, pushed),
            }
        )  # fmt: skip
    await session.execute(update(AriCell), rows)
    await session.flush()
