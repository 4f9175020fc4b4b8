"""A batch's new booking revisions applied as sets: a few statements for a run of them, not
some thirteen round trips each (`apply_revision` in app/services/revisions.py, in a SAVEPOINT
per revision), for the throughput of a burst of new bookings (issue 14).

Each revision gets what `apply_revision` would give it: the same flags, sequence, held
availability, stored row and delivery. A revision is planned for a set when it needs nothing
but the batch's own reads: `new`, not stored before the batch, the only revision of its
booking in the batch, of a known property, and its data worked out without error before any
write. Every other one, poison among them, goes the per-revision way, where a poison
revision is quarantined alone (app/services/revision_batches.py).

The batch walks its revisions in their order (by booking, then Channex's order) and applies
each run of consecutive planned ones as a set, so that booking rows are locked in the same
order as one revision at a time locks them, and two batches never deadlock on them. A set's
writes run in one SAVEPOINT: should one fail, the set is rolled back whole and its revisions
go the per-revision way, in order.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.channex.schemas import BookingRevision as ChannexRevision
from app.db import lock_given_up, utcnow
from app.domain.revisions import RoomMapping, booked_nights, is_newer, map_rooms, parse_instant
from app.models import AriCell, Booking, BookingDelivery, BookingRevision, Property
from app.models.ari import AVAILABILITY
from app.models.bookings import RevisionFlag
from app.services.ari_holds import held_row
from app.services.delivery import delivery_row, endpoint_id_for
from app.services.memo import remembered
from app.services.personal_data import merge_personal, split_personal
from app.services.revision_intake import TRANSIENT_DB
from app.services.revision_sources import failure_reason, stored_ids
from app.services.revisions import (
    Batch,
    check_deliverable,
    find_property,
    on_pks,
    room_mapping,
    room_type_pks,
    rooms_of,
    seal_personal,
    take_state,
)
from app.services.rows import dialect_insert
from app.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Created:
    """A revision a set stored: its row's pk, its booking's, its flags."""

    revision_id: str
    revision_pk: int
    booking_pk: int
    flags: list[str]


@dataclass
class SetApplied:
    """What a set stored, and its revisions left to the per-revision path (all of them
    when the set failed; else those a concurrent job stored meanwhile), in order."""

    created: list[Created] = field(default_factory=list)
    rest: list[ChannexRevision] = field(default_factory=list)


@dataclass
class Plan:
    """One revision's row, worked out before any write: what fails here is the revision's
    own data, and it goes the per-revision way (to be quarantined) instead."""

    rev: ChannexRevision
    property_pk: int
    organization_id: int
    clean: dict[str, Any]
    personal: dict[str, Any]
    flags: set[str]
    nights: list[tuple[int, date]]  # (room type pk, night): checked, then held
    inserted_at: datetime


def runs(
    ordered: Sequence[ChannexRevision], plans: Mapping[str, Plan]
) -> list[list[ChannexRevision]]:
    """`ordered` cut into runs of consecutive revisions that are all planned or all not."""
    cut: list[list[ChannexRevision]] = []
    for rev in ordered:
        if cut and (rev.id in plans) == (cut[-1][0].id in plans):
            cut[-1].append(rev)
        else:
            cut.append([rev])
    return cut


async def plan_sets(
    session: AsyncSession, ordered: Sequence[ChannexRevision], batch: Batch
) -> dict[str, Plan]:
    """The plans of the revisions a set may take, by revision id (reads only)."""
    per_booking = Counter(rev.booking_id for rev in ordered)
    plans: dict[str, Plan] = {}
    for rev in ordered:
        if rev.status != "new" or rev.id in batch.stored or per_booking[rev.booking_id] > 1:
            continue
        reads = await _property_reads(session, rev.property_id, batch)
        if reads is None:
            continue  # an unknown property: flagged by the per-revision path
        try:
            plans[rev.id] = _plan(rev, *reads)
        except Exception:  # poison: the per-revision path quarantines it with why
            log.debug("revision left to the per-revision path", extra={"revision": rev.id})
    return plans


async def _property_reads(
    session: AsyncSession, channex_property_id: str, batch: Batch
) -> tuple[Property, RoomMapping, dict[str, int]] | None:
    """The property, its room mapping and room type pks, read once per batch (its memo)."""
    prop = await remembered(
        batch.properties, channex_property_id, lambda: find_property(session, channex_property_id)
    )
    if prop is None:
        return None
    pk = prop.id
    mapping = await remembered(batch.mappings, pk, lambda: room_mapping(session, pk))
    pks = await remembered(batch.room_type_pks, pk, lambda: room_type_pks(session, pk))
    return prop, mapping, pks


def _plan(rev: ChannexRevision, prop: Property, mapping: RoomMapping, pks: dict[str, int]) -> Plan:
    """As `revisions._store` and `_check_availability` work out a new revision's row."""
    clean, personal = split_personal(rev.raw)
    rooms, unmapped = map_rooms(rooms_of(clean), mapping)
    clean["rooms"] = rooms
    check_deliverable(rev.id, merge_personal(clean, personal))
    # A new booking is checked on all its nights, and holds them all (nights_to_check).
    nights = on_pks(booked_nights(rooms), pks)
    inserted_at = parse_instant(rev.inserted_at)
    return Plan(
        rev, prop.id, prop.organization_id, clean, personal, set(unmapped), nights, inserted_at
    )


async def apply_set(
    session: AsyncSession, settings: Settings, plans: Sequence[Plan], batch: Batch
) -> SetApplied:
    """Apply a run of planned revisions in one SAVEPOINT; see SetApplied."""
    try:
        async with session.begin_nested():
            created, late = await _write(session, settings, plans, batch)
    except TRANSIENT_DB:
        raise
    except Exception as exc:
        if lock_given_up(exc):
            raise  # a deadlock: the batch goes again one revision at a time
        batch.forget()
        log.warning(
            "a set of revisions failed; applying them one by one",
            extra={"n": len(plans), "reason": failure_reason(exc)},
        )
        return SetApplied(rest=[p.rev for p in plans])
    return SetApplied(created, [p.rev for p in plans if p.rev.id in late])


async def _write(
    session: AsyncSession, settings: Settings, plans: Sequence[Plan], batch: Batch
) -> tuple[list[Created], set[str]]:
    """The set's statements; and the revisions found stored once their bookings were locked
    (a concurrent job's), which the per-revision path then finds stored."""
    bookings = await _lock_bookings(session, plans)
    late = await stored_ids(session, [p.rev.id for p in plans])
    todo = [p for p in plans if p.rev.id not in late]
    if not todo:
        return [], late
    await _check_and_hold(session, todo)
    rows = [_row(settings, plan, bookings[plan.rev.booking_id]) for plan in todo]
    # Matched back by revision id: asking for the rows' order would cost SQLite one INSERT
    # per row (SQLAlchemy's insertmanyvalues has no sentinel column here to sort by).
    stmt = insert(BookingRevision).returning(
        BookingRevision.channex_revision_id, BookingRevision.id
    )
    by_id = {rid: pk for rid, pk in (await session.execute(stmt, rows)).all()}
    pks = [by_id[row["channex_revision_id"]] for row in rows]
    await _queue_deliveries(session, settings, todo, rows, pks, batch)
    await session.flush()  # the bookings' new state, inside the SAVEPOINT: a failure is the set's
    return [
        Created(plan.rev.id, pk, row["booking_id"], row["flags"])
        for plan, row, pk in zip(todo, rows, pks, strict=True)
    ], late


async def _lock_bookings(session: AsyncSession, plans: Sequence[Plan]) -> dict[str, Booking]:
    """The plans' booking rows, created if new and write-locked, in one INSERT ... ON
    CONFLICT DO UPDATE ... RETURNING (as revisions._locked_booking does one), by booking id:
    the order in which one revision at a time takes them."""
    now = utcnow()
    values = [
        {
            "channex_booking_id": p.rev.booking_id, "channex_property_id": p.rev.property_id,
            "property_id": p.property_pk, "status": p.rev.status, "last_sequence": 0,
            "created_at": now, "updated_at": now,
        }
        for p in sorted(plans, key=lambda p: p.rev.booking_id)
    ]  # fmt: skip
    stmt = (
        dialect_insert(session)(Booking)
        .values(values)
        .on_conflict_do_update(
            index_elements=[Booking.channex_booking_id], set_={"updated_at": now}
        )
        .returning(Booking)
    )
    result = await session.scalars(stmt, execution_options={"populate_existing": True})
    return {b.channex_booking_id: b for b in result.all()}


async def _check_and_hold(session: AsyncSession, plans: Sequence[Plan]) -> None:
    """Overbooking flags and the held availability of every plan, in one read and one
    write per property (as `_overbooked` and ari_holds.hold_booked_nights do per revision;
    the ARI locks are held: `lock_holds_first`)."""
    by_property: dict[int, list[Plan]] = {}
    for plan in plans:
        by_property.setdefault(plan.property_pk, []).append(plan)
    now = utcnow()
    for property_pk, group in by_property.items():
        keys = sorted({night for plan in group for night in plan.nights})
        if not keys:
            continue
        stmt = select(AriCell.entity_id, AriCell.stay_date, AriCell.desired, AriCell.pushed).where(
            AriCell.property_id == property_pk,
            AriCell.kind == AVAILABILITY,
            tuple_(AriCell.entity_id, AriCell.stay_date).in_(keys),
        )
        cells = {(e, d): (desired, pushed) for e, d, desired, pushed in await session.execute(stmt)}
        for plan in group:
            found = [cells[n][0] for n in plan.nights if n in cells]
            if any((d or {}).get("availability") == 0 for d in found):
                plan.flags.add(RevisionFlag.OVERBOOKING)
        held = [
            held_row(property_pk, entity_id, day, pushed, now)
            for (entity_id, day), (_, pushed) in sorted(cells.items())
        ]
        if held:
            await session.execute(update(AriCell), held)


def _row(settings: Settings, plan: Plan, booking: Booking) -> dict[str, Any]:
    """The revision's row; the booking takes its state when it is the newest."""
    rev = plan.rev
    sequence = None
    if is_newer(plan.inserted_at, rev.id, booking.current_inserted_at, booking.current_revision_id):
        booking.last_sequence += 1
        sequence = booking.last_sequence
        take_state(booking, rev, plan.inserted_at)
    else:
        plan.flags.add(RevisionFlag.STALE)
        log.warning("stale booking revision kept, not applied", extra={"revision": rev.id})
    erased = booking.personal_data_erased_at is not None
    return {
        "channex_revision_id": rev.id,
        "booking_id": booking.id,
        "status": rev.status,
        "inserted_at": plan.inserted_at,
        "sequence": sequence,
        "feed_position": None,  # given at the batch's end (assign_feed_positions)
        "data": plan.clean,
        "personal_data": None if erased else seal_personal(settings, plan.personal),
        "flags": sorted(plan.flags),
        "created_at": utcnow(),
    }


async def _queue_deliveries(
    session: AsyncSession,
    settings: Settings,
    plans: Sequence[Plan],
    rows: Sequence[dict[str, Any]],
    pks: Sequence[int],
    batch: Batch,
) -> None:
    """The delivery row of each revision that became its booking's state, in one INSERT (as
    delivery.queue_deliveries does for one)."""
    values: list[dict[str, Any]] = []
    for plan, row, pk in zip(plans, rows, pks, strict=True):
        if row["sequence"] is None:
            continue
        org = plan.organization_id
        endpoint_id = await endpoint_id_for(session, settings, org, batch.endpoints)
        if endpoint_id is not None:
            values.append(delivery_row(pk, row["booking_id"], endpoint_id, row["sequence"]))
    if values:
        stmt = dialect_insert(session)(BookingDelivery).values(values).on_conflict_do_nothing()
        await session.execute(stmt)
