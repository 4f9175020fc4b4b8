"""Booking jobs: process inbox events, reconcile from the feed, push to the PMS, keep the
Channex webhook registered. Each re-reads the database, so running twice changes nothing.

The order that matters: apply a revision and COMMIT, then ack it to Channex (§7.3), then
enqueue its delivery. A failed ack is retried by the reconciliation (the revision stays in
Channex's feed, and applying it again is a no-op).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from arq.worker import Retry
from sqlalchemy import select, update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from app.channex.client import ChannexClient
from app.channex.errors import (
    ChannexError,
    ChannexNotFoundError,
    ChannexRateLimitedError,
    ChannexUnavailableError,
)
from app.channex.schemas import BookingRevision as ChannexRevision
from app.channex.schemas import MalformedItem
from app.db import utcnow
from app.domain.revisions import (
    ARI_EVENT,
    BOOKING_EVENTS,
    CHANNEL_EVENTS,
    NON_ACKED_EVENT,
    UNMAPPED_EVENTS,
)
from app.jobs.ari_watch import request_drift_check
from app.jobs.channels import request_connection_follow_up
from app.jobs.context import WorkerContext
from app.jobs.registry import WORK_BUDGET_SECONDS
from app.jobs.sweep import PendingJob
from app.models import BookingRevision, Property, WebhookEvent
from app.models.bookings import EventStatus
from app.services.ari_push import request_full_sync
from app.services.ari_watch import mark_ari_event
from app.services.channel_events import handle_channel_event
from app.services.delivery import deliver_step, due_deliveries
from app.services.inbox import mark_event, pending_event_ids
from app.services.revision_sources import (
    failure_reason,
    quarantine,
    quarantine_malformed,
    revisions_for_webhook,
)
from app.services.revisions import apply_revision
from app.services.webhook_registration import (
    ensure_webhook,
    marker_due,
    touch_marker,
    webhook_marker,
)

log = logging.getLogger(__name__)

TRANSIENT_CHANNEX = (ChannexUnavailableError, ChannexRateLimitedError)
TRANSIENT_DB = (OperationalError, InterfaceError)
RECONCILE_MARKER = "reconcile"
WEBHOOK_CHECK_SECONDS = 3600.0
# A burst of `non_acked_booking` alarms (one per revision) becomes one feed read: the job is
# deferred this long, and its id keeps later alarms from queueing another meanwhile.
ALARM_RECONCILE_DELAY_SECONDS = 2.0
# Events younger than this are left to the job enqueued by the intake itself.
INBOX_GRACE_SECONDS = 30.0
# A round of reconciliation reads at most this many feed pages, one job each.
MAX_RECONCILE_STEPS = 1_000


def _backoff(ctx: WorkerContext) -> float:
    return float(min(300, 5 * 2 ** (ctx.get("job_try", 1) - 1)))


async def process_webhook_event(ctx: WorkerContext, event_id: int) -> None:
    """Job: act on one stored webhook (booking → fetch, apply, commit, ack; channel → rows)."""
    async with ctx["session_factory"]() as session:
        event = await session.get(WebhookEvent, event_id)
        if event is None or event.status != EventStatus.PENDING:
            return
        event.attempts += 1
        name, revision_id = event.event, event.channex_revision_id
        await session.commit()
    if name in BOOKING_EVENTS | UNMAPPED_EVENTS and revision_id:
        await _booking_event(ctx, event_id, revision_id)
    elif name == NON_ACKED_EVENT:
        await _finish(ctx, event_id, EventStatus.ALARM, "Channex: revision unacked for 30 min")
        await ctx["queue"].enqueue(
            "reconcile_bookings",
            1,
            job_id="reconcile-now",
            defer=ALARM_RECONCILE_DELAY_SECONDS,
        )
    elif name in CHANNEL_EVENTS:
        await _channel_event(ctx, event_id)
    elif name == ARI_EVENT:
        await _ari_event(ctx, event_id)
    else:
        await _finish(ctx, event_id, EventStatus.IGNORED, "nothing to do")


async def _booking_event(ctx: WorkerContext, event_id: int, revision_id: str) -> None:
    channex = ctx["channex"]
    if channex is None:
        return  # sync is off: the event stays pending until it is on again
    try:
        async with ctx["session_factory"]() as session:
            revisions = await revisions_for_webhook(session, channex, revision_id)
    except TRANSIENT_CHANNEX as exc:
        raise Retry(defer=max(_backoff(ctx), getattr(exc, "retry_after", 0.0))) from exc
    except ChannexNotFoundError:
        await _finish(ctx, event_id, EventStatus.FAILED, "Channex has no such revision")
        return
    except ChannexError as exc:
        await _quarantine(ctx, revision_id, f"unreadable revision: {exc.title}", None)
        await _ack(ctx, channex, revision_id)
        await _finish(ctx, event_id, EventStatus.FAILED, "revision quarantined")
        return
    await apply_and_ack(ctx, channex, revisions)
    await _finish(ctx, event_id, EventStatus.DONE)


async def apply_and_ack(
    ctx: WorkerContext,
    channex: ChannexClient,
    revisions: Sequence[ChannexRevision],
    deadline: float | None = None,
) -> int:
    """Apply each revision in its own transaction, commit, then ack it; quarantine poison.
    Stops before the next revision once `deadline` (time.monotonic) has passed; returns how
    many revisions were acked."""
    booking_ids: list[int] = []
    acks = 0
    for rev in revisions:
        if deadline is not None and time.monotonic() > deadline:
            break
        acked = False
        async with ctx["session_factory"]() as session:
            try:
                outcome = await apply_revision(session, ctx["settings"], rev)
                await session.commit()
                booking_ids.append(outcome.revision.booking_id)
                acked = outcome.revision.acked_at is not None
            except TRANSIENT_DB:
                raise
            except Exception as exc:  # poison: anything the data itself makes fail
                await session.rollback()
                reason = failure_reason(exc)
                log.error(
                    "booking revision cannot be applied",
                    extra={"revision": rev.id, "reason": reason},
                )
                await _quarantine(ctx, rev.id, reason, rev)
        if not acked:  # acking twice is harmless, but costs a request
            acks += await _ack(ctx, channex, rev.id)
    await enqueue_deliveries(ctx, booking_ids)
    return acks


async def _quarantine(
    ctx: WorkerContext, revision_id: str, reason: str, rev: ChannexRevision | None
) -> None:
    async with ctx["session_factory"]() as session:
        await quarantine(session, ctx["settings"], revision_id, reason, rev)
        await session.commit()


async def _ack(ctx: WorkerContext, channex: ChannexClient, revision_id: str) -> bool:
    """Ack by REVISION id (§7.2), only ever after the commit; twice is harmless. False when
    Channex refused it."""
    try:
        await channex.ack_booking_revision(revision_id)
    except ChannexError as exc:
        # Still in Channex's feed: the next reconciliation applies (no-op) and acks again.
        log.warning("ack failed, reconciliation will retry", extra={"revision": revision_id})
        log.debug("ack failure: %r", exc)
        return False
    async with ctx["session_factory"]() as session:
        await session.execute(
            update(BookingRevision)
            .where(
                BookingRevision.channex_revision_id == revision_id,
                BookingRevision.acked_at.is_(None),
            )
            .values(acked_at=utcnow())
        )
        await session.commit()
    return True


async def _finish(ctx: WorkerContext, event_id: int, status: str, note: str | None = None) -> None:
    async with ctx["session_factory"]() as session:
        event = await session.get(WebhookEvent, event_id)
        if event is not None:
            mark_event(event, status, note)
            await session.commit()


async def _channel_event(ctx: WorkerContext, event_id: int) -> None:
    async with ctx["session_factory"]() as session:
        event = await session.get(WebhookEvent, event_id)
        if event is None:
            return
        outcome = await handle_channel_event(session, event)
        change = outcome.change
        if change is not None:
            await request_full_sync(session, change.property_id)  # issue 4: owed, then sent
        status = EventStatus.DONE if outcome.ignored is None else EventStatus.IGNORED
        mark_event(event, status, outcome.ignored)
        await session.commit()
    if change is not None:
        await request_connection_follow_up(ctx["queue"], change)


async def _ari_event(ctx: WorkerContext, event_id: int) -> None:
    """ARI changed in Channex: its dates wait for one coalesced drift check (issue 4)."""
    async with ctx["session_factory"]() as session:
        event = await session.get(WebhookEvent, event_id)
        if event is None:
            return
        property_pk = await mark_ari_event(session, ctx["settings"], event)
        await session.commit()
    if property_pk is not None:
        delay = ctx["settings"].ari_webhook_drift_delay_seconds
        await request_drift_check(ctx["queue"], property_pk, defer=delay)


async def import_channel_reservations(ctx: WorkerContext, channex_channel_id: str) -> None:
    """Job: ask the OTA for reservations made before the connection; they then arrive as
    ordinary revisions (webhook and feed)."""
    channex = ctx["channex"]
    if channex is None:
        return
    try:
        await channex.execute_channel_action(channex_channel_id, "load_future_reservations")
    except TRANSIENT_CHANNEX as exc:
        raise Retry(defer=_backoff(ctx)) from exc
    await ctx["queue"].enqueue("reconcile_bookings", 1, job_id="reconcile-now")


async def reconcile_bookings(ctx: WorkerContext, force: int = 0, step: int = 0) -> None:
    """Job: the first page of Channex's feed of unacknowledged revisions, applied and acked
    (§7.3, §7.4). Acked revisions leave the feed, so while a page acks any and more may
    follow, step + 1 reads the (new) first page in a job of its own: no run is long enough
    to hold arq's in-progress lock past recovery time (see WORK_BUDGET_SECONDS)."""
    channex = ctx["channex"]
    if channex is None:
        return
    if step == 0 and not await _reconcile_due(ctx, force):
        return
    try:
        feed = await channex.read_booking_revision_feed_page(1)
    except TRANSIENT_CHANNEX:
        log.warning("feed unavailable; next reconciliation will retry")
        return
    deadline = time.monotonic() + WORK_BUDGET_SECONDS
    acked = await quarantine_and_ack(ctx, channex, feed.malformed)
    acked += await apply_and_ack(ctx, channex, feed.revisions, deadline)
    unfinished = feed.more or acked < len(feed.revisions) + len(feed.malformed)
    if acked and unfinished and step < MAX_RECONCILE_STEPS:
        await ctx["queue"].enqueue(
            "reconcile_bookings", 0, step + 1, job_id=f"reconcile-step:{step + 1}"
        )


async def _reconcile_due(ctx: WorkerContext, force: int) -> bool:
    """Start a round when forced or when the interval has passed (and note the start)."""
    interval = ctx["settings"].booking_reconcile_interval_seconds
    async with ctx["session_factory"]() as session:
        if not force and not await marker_due(session, RECONCILE_MARKER, interval):
            return False
        await touch_marker(session, RECONCILE_MARKER)
        await session.commit()
    return True


async def quarantine_and_ack(
    ctx: WorkerContext, channex: ChannexClient, malformed: Sequence[MalformedItem]
) -> int:
    """Feed entries that do not parse are kept with why, then acked: never retried forever,
    re-applied by API once Channex serves them correctly. Returns how many were acked."""
    acks = 0
    for item in malformed:
        async with ctx["session_factory"]() as session:
            await quarantine_malformed(session, ctx["settings"], item)
            await session.commit()
        acks += await _ack(ctx, channex, item.id)
    return acks


async def enqueue_deliveries(ctx: WorkerContext, booking_ids: Sequence[int]) -> None:
    if not booking_ids:
        return
    async with ctx["session_factory"]() as session:
        pairs = await due_deliveries(session, booking_ids=sorted(set(booking_ids)))
    for endpoint_id, booking_id in pairs:
        await ctx["queue"].enqueue(
            "deliver_booking",
            endpoint_id,
            booking_id,
            job_id=f"deliver:{endpoint_id}:{booking_id}",
        )


async def deliver_booking(ctx: WorkerContext, endpoint_id: int, booking_id: int) -> None:
    """Job: push the booking's undelivered revisions to the endpoint, oldest first; after
    WORK_BUDGET_SECONDS the rest goes on in a run of its own, so the job stays short."""
    deadline = time.monotonic() + WORK_BUDGET_SECONDS
    while True:
        async with ctx["session_factory"]() as session:
            step = await deliver_step(
                session,
                ctx["settings"],
                ctx["pms_http"],
                endpoint_id=endpoint_id,
                booking_id=booking_id,
            )
            await session.commit()
        if not step.sent:
            break
        if time.monotonic() > deadline:
            raise Retry(defer=0)
    if step.defer is not None and step.defer <= 600:
        raise Retry(defer=step.defer)  # later retries are found by the sweep


async def ensure_channex_webhook(ctx: WorkerContext, force: int = 0) -> None:
    """Job: create or repair channel-sync's Channex webhook (hourly, and at start-up)."""
    channex = ctx["channex"]
    if channex is None:
        return
    marker = webhook_marker(ctx["settings"])
    async with ctx["session_factory"]() as session:
        if not force and not await marker_due(session, marker, WEBHOOK_CHECK_SECONDS):
            return
    try:
        result = await ensure_webhook(channex, ctx["settings"])
    except TRANSIENT_CHANNEX:
        log.warning("channex webhook check failed; the next sweep retries")
        return
    log.info("channex webhook %s", result)
    async with ctx["session_factory"]() as session:
        await touch_marker(session, marker)
        await session.commit()


async def drain_inbox(ctx: WorkerContext) -> None:
    """Job: one job per pending inbox event (the intake's InboxWaker asks for this). Job ids
    are per event, so events already queued or running are not queued twice."""
    async with ctx["session_factory"]() as session:
        event_ids = await pending_event_ids(session)
    for event_id in event_ids:
        await ctx["queue"].enqueue(
            "process_webhook_event", event_id, job_id=f"webhook-event:{event_id}"
        )


async def scan_bookings(session: AsyncSession) -> list[PendingJob]:
    """Sweep scanner: inbox events not yet processed, deliveries due, and the periodic
    reconciliation and webhook check (both throttle themselves)."""
    jobs = [
        PendingJob("process_webhook_event", (event_id,), job_id=f"webhook-event:{event_id}")
        for event_id in await pending_event_ids(session, older_than=INBOX_GRACE_SECONDS)
    ]
    jobs += [
        PendingJob("deliver_booking", (e, b), job_id=f"deliver:{e}:{b}")
        for e, b in await due_deliveries(session)
    ]
    if await _has_properties(session):  # no property in Channex: no booking to look for
        jobs.append(PendingJob("reconcile_bookings", (), job_id="reconcile"))
    jobs.append(PendingJob("ensure_channex_webhook", (), job_id="ensure-webhook"))
    return jobs


async def _has_properties(session: AsyncSession) -> bool:
    stmt = select(Property.id).where(Property.channex_property_id.is_not(None)).limit(1)
    return (await session.execute(stmt)).first() is not None
