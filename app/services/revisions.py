"""Applying one Channex booking revision to the database (channex-api.md §7.1, §7.3).

`apply_revision` is idempotent (a revision already stored changes nothing), serializes
writers of one booking on the booking row, and lets only a newer revision move the booking's
state. It flushes; the caller commits and only then acknowledges to Channex.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import and_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.channex.schemas import BookingRevision as ChannexRevision
from app.db import utcnow
from app.domain.revisions import (
    RoomMapping,
    booked_nights,
    is_newer,
    map_rooms,
    nights_to_check,
    parse_instant,
)
from app.models import (
    AriCell,
    Booking,
    BookingRevision,
    FeedCounter,
    Property,
    RatePlan,
    RoomType,
)
from app.models.ari import AVAILABILITY
from app.models.bookings import RevisionFlag
from app.schemas_revision import RevisionData
from app.services.ari_holds import hold_booked_nights
from app.services.ari_mappings import lock_ari_state
from app.services.delivery import queue_deliveries
from app.services.memo import remembered
from app.services.personal_data import build_cipher, encrypt, merge_personal, split_personal
from app.services.rows import dialect_insert, insert_ignore
from app.settings import Settings

log = logging.getLogger(__name__)

FEED_COUNTER = "booking_feed"


@dataclass(frozen=True)
class Outcome:
    """What applying did: the stored row, whether it is new, and whether it is deliverable."""

    revision: BookingRevision
    created: bool


class RevisionOffSchema(ValueError):
    """Channex sent a revision the PMS's documented schema does not describe."""


def check_deliverable(revision_id: str, data: dict[str, Any]) -> None:
    """What the PMS receives must match its documented schema: a revision that does not is
    poison (quarantined, acked, re-applied once fixed), rather than a pull feed failing on it
    and a push blocking the booking's later revisions. Logs the fields (never the values:
    they may be guest data)."""
    try:
        RevisionData.model_validate(data)
    except ValidationError as exc:
        fields = sorted({".".join(str(part) for part in e["loc"]) for e in exc.errors()})
        log.error(
            "booking revision off the documented schema",
            extra={"revision": revision_id, "fields": fields},
        )
        raise RevisionOffSchema(", ".join(fields)) from None


async def find_revision(session: AsyncSession, channex_revision_id: str) -> BookingRevision | None:
    stmt = select(BookingRevision).where(BookingRevision.channex_revision_id == channex_revision_id)
    return (await session.execute(stmt)).scalar_one_or_none()


@dataclass
class Batch:
    """One batch transaction's memo (app/services/revision_batches.py): what each of its
    revisions would look up alike is read once, and feed positions are given at the end
    (`assign_feed_positions`). `stored`: the batch's revision ids stored before it began."""

    stored: set[str] = field(default_factory=set)
    properties: dict[str, Property | None] = field(default_factory=dict)
    mappings: dict[int, RoomMapping] = field(default_factory=dict)
    room_type_pks: dict[int, dict[str, int]] = field(default_factory=dict)
    endpoints: dict[int, int | None] = field(default_factory=dict)  # by organization

    def forget(self) -> None:
        """After a savepoint's rollback: what was read (or inserted: the global endpoint's
        row) inside it may be gone."""
        self.properties.clear()
        self.mappings.clear()
        self.room_type_pks.clear()
        self.endpoints.clear()


async def apply_revision(
    session: AsyncSession, settings: Settings, rev: ChannexRevision, *, batch: Batch | None = None
) -> Outcome:
    """Store the revision and, when it is the newest, make it the booking's state."""
    if batch is None or rev.id in batch.stored:
        existing = await find_revision(session, rev.id)
        if existing is not None:
            return Outcome(existing, created=False)
    prop = await _property_of(session, rev, batch)
    if batch is None and prop is not None and _holds(rev):
        await lock_ari_state(session, prop.id)  # before the booking's lock: lock_holds_first
    booking = await _locked_booking(session, rev, prop)
    # A concurrent job may have stored it while we waited for the booking's lock.
    existing = await find_revision(session, rev.id)
    if existing is not None:
        return Outcome(existing, created=False)
    row = await _store(session, settings, rev, prop, booking, batch=batch)
    if row.sequence is not None and prop is not None:
        endpoints = batch.endpoints if batch is not None else None
        await queue_deliveries(session, settings, row, booking, prop, endpoints=endpoints)
    await session.flush()
    return Outcome(row, created=True)


async def lock_holds_first(
    session: AsyncSession, revisions: Sequence[ChannexRevision], batch: Batch | None = None
) -> None:
    """Take the ARI lock of each property whose new bookings will hold availability (see
    `_check_availability`), in pk order, before any booking's lock. Taken at the first hold
    instead, a transaction would wait for it while holding bookings' locks that the lock's
    holder may be waiting for: a batch and a single revision deadlocked so in CI."""
    pks: set[int] = set()
    for rev in revisions:
        if not _holds(rev) or (batch is not None and rev.id in batch.stored):
            continue
        prop = await _property_of(session, rev, batch)
        if prop is not None:
            pks.add(prop.id)
    for pk in sorted(pks):
        await lock_ari_state(session, pk)


def _holds(rev: ChannexRevision) -> bool:
    """Whether applying it holds availability: a new booking's nights (_check_availability)."""
    return rev.status == "new"


async def _property_of(
    session: AsyncSession, rev: ChannexRevision, batch: Batch | None
) -> Property | None:
    return await remembered(
        batch.properties if batch else None,
        rev.property_id,
        lambda: find_property(session, rev.property_id),
    )


async def find_property(session: AsyncSession, channex_property_id: str) -> Property | None:
    stmt = select(Property).where(Property.channex_property_id == channex_property_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def _locked_booking(
    session: AsyncSession, rev: ChannexRevision, prop: Property | None
) -> Booking:
    """The booking's row, created if new, write-locked for the rest of the transaction and
    read as it is now: one INSERT ... ON CONFLICT DO UPDATE ... RETURNING (the update takes
    the lock, also on SQLite, which ignores FOR UPDATE: see rows.lock_row)."""
    now = utcnow()
    stmt = (
        dialect_insert(session)(Booking)
        .values(
            channex_booking_id=rev.booking_id,
            channex_property_id=rev.property_id,
            property_id=prop.id if prop else None,
            status=rev.status,
            last_sequence=0,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_update(
            index_elements=[Booking.channex_booking_id], set_={"updated_at": now}
        )
        .returning(Booking)
    )
    result = await session.scalars(stmt, execution_options={"populate_existing": True})
    return result.one()


async def _store(
    session: AsyncSession,
    settings: Settings,
    rev: ChannexRevision,
    prop: Property | None,
    booking: Booking,
    *,
    batch: Batch | None,
) -> BookingRevision:
    clean, personal = split_personal(rev.raw)
    rooms = rooms_of(clean)
    flags: set[str] = set()
    if prop is None:
        flags.add(RevisionFlag.UNKNOWN_PROPERTY)
    else:
        memo = batch.mappings if batch else None
        mapping = await remembered(memo, prop.id, lambda: room_mapping(session, prop.id))
        rooms, unmapped = map_rooms(rooms, mapping)
        flags |= unmapped
        flags |= await _check_availability(session, prop.id, booking, rev.status, rooms, batch)
    clean["rooms"] = rooms
    check_deliverable(rev.id, merge_personal(clean, personal))
    inserted_at = parse_instant(rev.inserted_at)
    newest = is_newer(inserted_at, rev.id, booking.current_inserted_at, booking.current_revision_id)
    sequence = None
    if newest:
        booking.last_sequence += 1
        sequence = booking.last_sequence
        take_state(booking, rev, inserted_at)
    else:
        flags.add(RevisionFlag.STALE)
        log.warning("stale booking revision kept, not applied", extra={"revision": rev.id})
    row = BookingRevision(
        channex_revision_id=rev.id,
        booking_id=booking.id,
        status=rev.status,
        inserted_at=inserted_at,
        sequence=sequence,
        feed_position=None if batch is not None else await _next_feed_position(session),
        data=clean,
        personal_data=None
        if booking.personal_data_erased_at
        else seal_personal(settings, personal),
        flags=sorted(flags),
    )
    session.add(row)
    await session.flush()
    return row


def rooms_of(clean: dict[str, Any]) -> list[dict[str, Any]]:
    """The revision's rooms (its personal data split off), those that are objects."""
    found = clean.get("rooms")
    return [r for r in found if isinstance(r, dict)] if isinstance(found, list) else []


def seal_personal(settings: Settings, personal: dict[str, Any]) -> str | None:
    return encrypt(build_cipher(settings), personal)


def take_state(booking: Booking, rev: ChannexRevision, inserted_at: datetime) -> None:
    booking.status = rev.status
    booking.unique_id = rev.unique_id
    booking.arrival_date = rev.arrival_date
    booking.departure_date = rev.departure_date
    amount, currency = rev.raw.get("amount"), rev.raw.get("currency")
    booking.amount = str(amount) if amount is not None else None
    booking.currency = str(currency)[:3] if currency else None
    booking.current_revision_id = rev.id
    booking.current_inserted_at = inserted_at


async def room_mapping(session: AsyncSession, property_id: int) -> RoomMapping:
    rooms = await session.execute(
        select(RoomType.channex_room_type_id, RoomType.pms_room_type_id).where(
            RoomType.property_id == property_id, RoomType.channex_room_type_id.is_not(None)
        )
    )
    plans = await session.execute(
        select(RatePlan.channex_rate_plan_id, RatePlan.pms_rate_plan_id).where(
            RatePlan.property_id == property_id, RatePlan.channex_rate_plan_id.is_not(None)
        )
    )
    return RoomMapping(
        room_types={str(c): p for c, p in rooms.all()},
        rate_plans={str(c): p for c, p in plans.all()},
    )


async def room_type_pks(session: AsyncSession, property_id: int) -> dict[str, int]:
    """Our room type pk by Channex room type id, for the property's mapped room types."""
    ids = await session.execute(
        select(RoomType.channex_room_type_id, RoomType.id).where(
            RoomType.property_id == property_id, RoomType.channex_room_type_id.is_not(None)
        )
    )
    return {str(c): i for c, i in ids.all()}


def on_pks(nights: set[tuple[str, date]], pks: dict[str, int]) -> list[tuple[int, date]]:
    """(Channex room type id, night) pairs as (our room type pk, night); unmapped ones dropped."""
    return [(pks[rt], day) for rt, day in sorted(nights) if rt in pks]


async def _applied_rooms(
    session: AsyncSession, booking: Booking
) -> tuple[str | None, list[dict[str, Any]]]:
    """Status and rooms of the booking's applied revision, the one a new revision follows."""
    if booking.current_revision_id is None:
        return None, []
    stmt = select(BookingRevision.status, BookingRevision.data).where(
        BookingRevision.channex_revision_id == booking.current_revision_id
    )
    found = (await session.execute(stmt)).one_or_none()
    if found is None:
        return None, []
    status, data = found
    rooms = data.get("rooms")  # stored by `_store`: the mapped rooms, always dicts
    return status, rooms if isinstance(rooms, list) else []


async def _check_availability(
    session: AsyncSession,
    property_id: int,
    booking: Booking,
    status: str,
    rooms: list[dict[str, Any]],
    batch: Batch | None,
) -> set[RevisionFlag]:
    """Flag an overbooking on the room-nights this revision adds, and hold the booked nights'
    availability on a new booking (Channex lowered it itself; see ari_holds)."""
    flags: set[RevisionFlag] = set()
    if status == "cancelled":
        return flags  # frees rooms: nothing to flag or hold, no query needed
    # A new booking is checked on all its nights whatever came before (nights_to_check).
    previous_status, previous_rooms = (
        (None, []) if status == "new" else await _applied_rooms(session, booking)
    )
    added = nights_to_check(status, rooms, previous_status, previous_rooms)
    held = booked_nights(rooms) if status == "new" else set()
    if not added and not held:
        return flags
    pks = await remembered(
        batch.room_type_pks if batch else None,
        property_id,
        lambda: room_type_pks(session, property_id),
    )
    if await _overbooked(session, property_id, on_pks(added, pks)):
        flags.add(RevisionFlag.OVERBOOKING)
    if held:
        # Its ARI lock is held already: lock_holds_first takes it for every new booking.
        await hold_booked_nights(session, property_id, on_pks(held, pks), locked=True)
    return flags


async def _overbooked(
    session: AsyncSession, property_id: int, keys: list[tuple[int, date]]
) -> bool:
    """True when the PMS's desired availability was already 0 on one of these nights (the
    `ari_cell` rows hold what the PMS last sent)."""
    if not keys:
        return False
    stmt = select(AriCell.desired).where(
        and_(
            AriCell.property_id == property_id,
            AriCell.kind == AVAILABILITY,
            tuple_(AriCell.entity_id, AriCell.stay_date).in_(keys),
        )
    )
    return any((d or {}).get("availability") == 0 for d in (await session.execute(stmt)).scalars())


async def _next_feed_position(session: AsyncSession) -> int:
    """The pull feed's next position. The counter row's lock is held until commit, so
    positions become visible in increasing order and a cursor never skips one."""
    return await _take_feed_positions(session, 1)


async def _take_feed_positions(session: AsyncSession, count: int) -> int:
    """Reserve `count` feed positions; the last of them (the counter's lock held until
    commit)."""
    await insert_ignore(session, FeedCounter, {"name": FEED_COUNTER, "value": 0})
    stmt = (
        update(FeedCounter)
        .where(FeedCounter.name == FEED_COUNTER)
        .values(value=FeedCounter.value + count)
        .returning(FeedCounter.value)
    )
    return int((await session.execute(stmt)).scalar_one())


async def begin_batch(session: AsyncSession) -> None:
    """Open a batch's transaction with a write (a no-op INSERT of the feed counter), before
    its first SAVEPOINT: on SQLite a transaction opened by a read (as a SAVEPOINT opens one)
    cannot write once another writer committed meanwhile ("database is locked"), and the
    write gate (app/write_gate.py) is taken at the first write. PostgreSQL locks nothing."""
    await insert_ignore(session, FeedCounter, {"name": FEED_COUNTER, "value": 0})


async def assign_feed_positions(session: AsyncSession, revision_pks: Sequence[int]) -> None:
    """Give a batch's new revisions their feed positions, in this order, as the batch's last
    lock before its commit: a batch that took the counter at its first revision would hold
    it while it waits for other bookings' locks, and two batches could deadlock."""
    if not revision_pks:
        return
    last = await _take_feed_positions(session, len(revision_pks))
    first = last - len(revision_pks) + 1
    rows = [{"id": pk, "feed_position": first + n} for n, pk in enumerate(revision_pks)]
    await session.execute(update(BookingRevision), rows)
