"""The ARI push: send what Channex does not have yet, compressed, and record what it accepted.

A push spans network calls, so it owns its transactions instead of flushing into a caller's:
one short transaction plans (reads the cells to send), the requests go out with no transaction
open, and one short transaction per request records the result under the property's ARI lock.
Cells changed while a request was in flight keep their difference and go with the next push.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import Row, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.channex.ari_wire import AriMessage, ari_messages
from app.channex.client import ChannexClient
from app.channex.errors import ChannexError, ChannexRateLimitedError, ChannexUnavailableError
from app.channex.schemas import AriResult
from app.db import utcnow
from app.domain.ari import compress, compress_disjoint
from app.models import AriCell, AriState, Property
from app.models.ari import AVAILABILITY, ENDPOINTS
from app.services.ari_full_syncs import (
    another_queued,
    finish_full_sync,
    request_full_sync,
    start_full_sync,
)
from app.services.ari_mappings import Mappings, horizon, load_mappings, lock_ari_state
from app.services.ari_outcome import (
    DomainCells,
    Fields,
    Key,
    message_outcome,
    run_cells,
    to_domain,
)
from app.services.ari_push_cells import forget_in_flight, update_cells
from app.services.ari_push_known import KnownCell, KnownCells
from app.services.ari_rows import RAW_DESIRED, RAW_PUSHED, RAW_STAY_DATE, RowDecoder
from app.services.ari_runs import RunRecord, add_run

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PushLeft:
    """Why a push left cells to send: `more` changed while it ran, Channex was `rate_limited`
    (send again after `retry_after`), or `unavailable` (owed a full sync once it is back).
    The queue decides when the next push runs (app/jobs/ari.py)."""

    reason: Literal["more", "rate_limited", "unavailable"]
    retry_after: float = 0.0


@dataclass
class Batch:
    """The cells of one endpoint to send: fields per (entity pk, date), in stored form.

    Cells with equal documents share one fields dict (ari_rows): read-only."""

    endpoint: str
    kind: str  # incremental | full
    cells: dict[Key, Fields]
    versions: dict[Key, int]
    # The PMS change behind each cell Channex lacks (what a run sending it carries).
    changes: dict[Key, str] = field(default_factory=dict)


@dataclass
class Plan:
    property_pk: int
    channex_property_id: str
    mappings: Mappings
    batches: list[Batch]
    first: date
    last: date
    tenant: str  # the organization, whose share of the account's request budget it uses
    full_sync_id: int | None = None  # the full sync the full batches serve
    # The batches' cells as read, for the writes before and after each request.
    known: KnownCells = field(default_factory=lambda: KnownCells(None))


async def push_property(
    session_factory: async_sessionmaker[AsyncSession],
    channex: ChannexClient,
    property_pk: int,
    *,
    now: datetime | None = None,
) -> PushLeft | None:
    """Push the property's unsent cells (and any full sync owed); why cells are left to send,
    or None when nothing is left."""
    async with session_factory() as session:
        plan = await plan_push(session, property_pk, now or utcnow())
        await session.commit()
    if plan is None:
        return None
    waits = []
    for batch in plan.batches:
        left = await _send_batch(session_factory, channex, plan, batch)
        if left is None:
            continue
        if left.reason != "rate_limited":
            return left
        # One endpoint's slot is taken: the other's budget is its own, so its cells still go
        # now (the leading edge is per endpoint); the job comes back at the first slot.
        waits.append(left.retry_after)
    if waits:
        return PushLeft("rate_limited", min(waits))
    async with session_factory() as session:
        if plan.full_sync_id is not None:
            await lock_ari_state(session, property_pk)
            await finish_full_sync(session, plan.full_sync_id)
            await session.commit()
        more = await has_pending(session, property_pk, plan.first, plan.last)
    return PushLeft("more") if more else None


async def plan_push(session: AsyncSession, property_pk: int, now: datetime) -> Plan | None:
    """What to send now; drops pending cells outside today..horizon (Channex rejects them)."""
    prop = await session.get(Property, property_pk)
    if prop is None or prop.disconnected_at is not None or prop.channex_property_id is None:
        return None
    # First, as every writer takes the ARI lock before cells (it is taken only when owed).
    full_sync_id = await start_full_sync(session, property_pk)
    first, last = horizon(prop, now)
    stale = (
        AriCell.property_id == property_pk,
        AriCell.dirty,
        or_(AriCell.stay_date < first, AriCell.stay_date > last),
    )
    # Look before writing: an UPDATE takes SQLite's one write lock even when it matches nothing,
    # and this transaction goes on to read the whole horizon.
    if (await session.execute(select(exists().where(*stale)))).scalar():
        await session.execute(
            update(AriCell)
            .where(*stale)
            .values(dirty=False)
            .execution_options(synchronize_session=False)
        )
    # Read before the cells: a writer that commits after this read moves the revision, so
    # what is read next is trusted only as long as the revision has not moved (ari_push_known).
    state = await session.get(AriState, property_pk)
    known = KnownCells(None if state is None else state.revision)
    mappings = await load_mappings(session, property_pk)
    batches = []
    for endpoint in ENDPOINTS:
        full = state is not None and bool(getattr(state, f"full_{endpoint}"))
        cells: dict[Key, KnownCell] = {}
        batch = await _batch(session, property_pk, mappings, endpoint, full, (first, last), cells)
        known.add(endpoint, batch.cells, cells)
        batches.append(batch)
    tenant = str(prop.organization_id)
    return Plan(
        property_pk, prop.channex_property_id, mappings, batches, first, last, tenant,
        full_sync_id, known,
    )  # fmt: skip


async def _batch(
    session: AsyncSession,
    property_pk: int,
    mappings: Mappings,
    endpoint: str,
    full: bool,
    dates: tuple[date, date],
    known: dict[Key, KnownCell],
) -> Batch:
    """Full: every stored field in the horizon. Incremental: only fields Channex lacks. The
    cells to send go into `known` as read."""
    # Columns, not ORM objects, decoded once per distinct text: a full sync reads 20,000 cells.
    stmt = select(
        AriCell.entity_id,
        RAW_STAY_DATE,
        RAW_DESIRED,
        RAW_PUSHED,
        AriCell.version,
        AriCell.change_id,
        AriCell.failure,
        AriCell.dirty,
    ).where(
        AriCell.property_id == property_pk,
        AriCell.kind == endpoint,
        AriCell.stay_date.between(*dates),
        AriCell.held_at.is_(None),  # never over Channex's own decrement for a booking
    )
    if not full:
        stmt = stmt.where(AriCell.dirty)
    batch = Batch(endpoint, "full" if full else "incremental", {}, {})
    mapped: dict[int, bool] = {}
    rows = (await (await session.connection()).execute(stmt)).all()
    for entity_id in {row[0] for row in rows}:
        mapped[entity_id] = mappings.channex_id(endpoint, entity_id) is not None
    _add_rows(batch, known, rows, mapped, full)
    if orphans := {entity_id for entity_id, is_mapped in mapped.items() if not is_mapped}:
        await session.execute(
            update(AriCell)
            .where(AriCell.property_id == property_pk, AriCell.kind == endpoint)
            .where(AriCell.entity_id.in_(orphans))
            .values(dirty=False)
            .execution_options(synchronize_session=False)
        )
    return batch


def _add_rows(
    batch: Batch,
    known: dict[Key, KnownCell],
    rows: Sequence[Row[int, str, str, str, int, str | None, str | None, bool]],
    mapped: Mapping[int, bool],
    full: bool,
) -> None:
    """The rows read into the batch (what to send of each cell) and into `known`."""
    decoder = RowDecoder()
    # Raw (desired, pushed) texts → the documents, the fields to send and those Channex lacks:
    # calendars repeat, so each pair is decoded and compared once (a document decodes to one
    # dict shared by its cells), as each date's text is parsed once.
    pairs: dict[tuple[Any, Any], tuple[Fields, Fields, Fields, Fields]] = {}
    days: dict[Any, date] = {}
    cells, versions, changes = batch.cells, batch.versions, batch.changes
    for entity_id, raw_day, raw_desired, raw_pushed, version, change_id, failure, dirty in rows:
        if not mapped[entity_id]:
            continue  # unmapped since: nothing to send it to
        if (pair := pairs.get((raw_desired, raw_pushed))) is None:
            desired, pushed = decoder.document(raw_desired), decoder.document(raw_pushed)
            lacking = {f: v for f, v in desired.items() if pushed.get(f) != v}
            pair = (desired, pushed, desired if full else lacking, lacking)
            pairs[(raw_desired, raw_pushed)] = pair
        if (day := days.get(raw_day)) is None:
            day = days[raw_day] = decoder.day(raw_day)
        key = (entity_id, day)
        if pair[2]:
            cells[key] = pair[2]
            versions[key] = version
            known[key] = KnownCell(pair[0], pair[1], failure, dirty)
        # A full sync re-sends cells Channex has: it carries only the changes it lacked.
        if pair[3] and change_id is not None:
            changes[key] = change_id


async def _send_batch(
    session_factory: async_sessionmaker[AsyncSession],
    channex: ChannexClient,
    plan: Plan,
    batch: Batch,
) -> PushLeft | None:
    """Compress and send one endpoint's cells; why not all were sent, if so."""
    cells, entity_of = to_domain(batch.cells, plan.mappings, batch.endpoint)
    messages = _messages(plan.channex_property_id, batch.endpoint, cells, plan.tenant)
    for number, message in enumerate(messages, start=1):
        # One message carries all the batch's runs, which set exactly the batch's cells
        # (expand(compress(cells)) == cells): no need to expand them back.
        sending = batch.cells if len(messages) == 1 else run_cells(message.runs, entity_of)
        record = _run_record(plan, batch, message, sending)
        await forget_in_flight(
            session_factory, plan.property_pk, batch.endpoint, sending, plan.known
        )
        started = time.perf_counter()
        try:
            result = await channex.push_ari(message)
        except ChannexRateLimitedError as exc:
            if exc.status == 429:  # a real 429: the client started the 60 s cooldown (§6.5)
                await _record_error(session_factory, record, started, "rate_limited", exc)
            return PushLeft("rate_limited", exc.retry_after)
        except ChannexUnavailableError as exc:
            # Channex is down (the client's own retries are spent): recover with a full sync
            # once it answers again, as Channex advises (channex-api.md §6.7).
            await _record_error(
                session_factory, record, started, "failed", exc,
                owe_full=True, full_sync_id=plan.full_sync_id,
            )  # fmt: skip
            return PushLeft("unavailable")
        except ChannexError as exc:
            # A 4xx for the whole message: resending it cannot help, so its cells are failed.
            await _record_rejected(session_factory, plan, batch, record, exc)
            continue
        record.duration_ms = _ms(started)
        outcome = message_outcome(result, message, entity_of, sending)
        await _record_result(
            session_factory, plan, batch, outcome.sent, outcome.failed, record, result,
            finish_full=number == len(messages),
        )  # fmt: skip
    if not messages and batch.kind == "full":
        await _clear_full(session_factory, plan, batch.endpoint)
    return None


def _messages(
    channex_property_id: str, endpoint: str, cells: DomainCells, tenant: str
) -> list[AriMessage]:
    """The cells as few values as found, in messages under Channex's size cap. Availability
    runs never overlap: Channex documents an order of application for restrictions only
    (channex-api.md §6.2, §6.3)."""
    if endpoint == AVAILABILITY:
        runs = compress_disjoint(cells)
        return ari_messages("availability", channex_property_id, runs, tenant=tenant)
    runs = compress(cells, weekday_sets=True)
    return ari_messages("restrictions", channex_property_id, runs, tenant=tenant)


def _run_record(
    plan: Plan, batch: Batch, message: AriMessage, sending: dict[Key, Fields]
) -> RunRecord:
    days = [day for _, day in batch.cells]
    changes = {batch.changes[key] for key in sending if key in batch.changes}
    return RunRecord(
        property_id=plan.property_pk,
        kind=batch.kind,
        endpoint=batch.endpoint,
        started_at=utcnow(),
        cells=len(batch.cells),
        values_count=len(message.runs),
        requests_count=1,
        bytes_count=len(message.body),
        date_from=min(days) if days else None,
        date_to=max(days) if days else None,
        full_sync_id=plan.full_sync_id if batch.kind == "full" else None,
        change_ids=sorted(changes),
    )


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


async def _record_error(
    session_factory: async_sessionmaker[AsyncSession],
    record: RunRecord,
    started: float,
    outcome: str,
    exc: ChannexError,
    *,
    owe_full: bool = False,
    full_sync_id: int | None = None,
) -> None:
    record.outcome, record.error, record.duration_ms = outcome, _describe(exc), _ms(started)
    log.warning(
        "ari push failed",
        extra={"property": record.property_id, "endpoint": record.endpoint, "outcome": outcome},
    )
    async with session_factory() as session:
        if owe_full:
            await lock_ari_state(session, record.property_id)
            # The full sync under way cannot finish: it failed, and a new one is owed.
            if full_sync_id is not None:
                await finish_full_sync(session, full_sync_id, failed=True)
            await request_full_sync(session, record.property_id)
        await add_run(session, record)
        await session.commit()


def _describe(exc: ChannexError) -> str:
    status = f"HTTP {exc.status} " if exc.status else ""
    details = f": {exc.details}" if exc.details else ""
    return f"{type(exc).__name__} {status}{exc.title}{details}"


async def _record_rejected(
    session_factory: async_sessionmaker[AsyncSession],
    plan: Plan,
    batch: Batch,
    record: RunRecord,
    exc: ChannexError,
) -> None:
    record.outcome, record.error = "failed", _describe(exc)
    failed = {key: record.error for key in batch.cells}
    await _record_result(session_factory, plan, batch, {}, failed, record, None, finish_full=True)


async def _record_result(
    session_factory: async_sessionmaker[AsyncSession],
    plan: Plan,
    batch: Batch,
    sent: dict[Key, Fields],
    failed: dict[Key, str],
    record: RunRecord,
    result: AriResult | None,
    *,
    finish_full: bool,
) -> None:
    """Under the property's lock: pushed := what Channex accepted, failures per cell, the run."""
    if result is not None:
        record.task_ids = list(result.task_ids)
        record.warnings = list(result.warnings)
        if result.warnings:
            record.outcome = "partial" if sent else "failed"
    async with session_factory() as session:
        state = await lock_ari_state(session, plan.property_pk)
        wanted = sent if not failed else dict.fromkeys(set(sent) | set(failed))
        known = plan.known if plan.known.cover(state, batch.endpoint, wanted) else None
        await update_cells(
            session, plan.property_pk, batch.endpoint, batch.versions, sent, failed, known
        )
        if finish_full and batch.kind == "full":
            if not await another_queued(session, plan.property_pk):
                setattr(state, f"full_{batch.endpoint}", False)
            state.last_full_sync_at = utcnow()
        await add_run(session, record)
        await session.commit()


async def _clear_full(
    session_factory: async_sessionmaker[AsyncSession], plan: Plan, endpoint: str
) -> None:
    async with session_factory() as session:
        state = await lock_ari_state(session, plan.property_pk)
        plan.known.taken(state)  # no cell written: what the push knows still holds
        if not await another_queued(session, plan.property_pk):
            setattr(state, f"full_{endpoint}", False)
        state.last_full_sync_at = utcnow()
        await session.commit()


async def has_pending(session: AsyncSession, property_pk: int, first: date, last: date) -> bool:
    """Cells left to send in the horizon, or a full sync still owed."""
    dirty = exists().where(
        AriCell.property_id == property_pk,
        AriCell.dirty,
        AriCell.stay_date.between(first, last),
    )
    full = exists().where(
        AriState.property_id == property_pk,
        or_(AriState.full_availability, AriState.full_restrictions),
    )
    return bool((await session.execute(select(or_(dirty, full)))).scalar())


async def owed_push(
    session: AsyncSession, property_pk: int, now: datetime
) -> Literal["incremental", "full"] | None:
    """What the property's ARI job would find to send now: a full sync owed, cells left in
    the horizon, or nothing (also when the property is not connected)."""
    prop = await session.get(Property, property_pk)
    if prop is None or prop.disconnected_at is not None or prop.channex_property_id is None:
        return None
    state = await session.get(AriState, property_pk)
    if state is not None and (state.full_availability or state.full_restrictions):
        return "full"
    first, last = horizon(prop, now)
    return "incremental" if await has_pending(session, property_pk, first, last) else None
