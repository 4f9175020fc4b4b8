"""Booking jobs: each turns a queue call into a service call (app/services/webhook_events.py,
reconciliation.py, delivery.py, webhook_registration.py), asks for what the service says
should follow, and maps Channex or the PMS being away to a later try. Every service re-reads
the database, so a job that runs twice changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from arq.worker import Retry
from sqlalchemy.ext.asyncio import AsyncSession

from app.channex.errors import TRANSIENT_ERRORS, ChannexError
from app.jobs import requests
from app.jobs.context import WorkerContext
from app.jobs.requests import (
    RECONCILE_SOON_SECONDS,
    JobRequest,
    request_channel_state_deliveries,
    request_connection_follow_up,
    request_deliveries,
    request_delivery,
    request_drift_check,
    request_endpoint_drain,
    request_endpoint_probe,
    request_event_block,
    request_reconciliation,
    request_reconciliation_step,
)
from app.jobs.spec import WORK_BUDGET_SECONDS
from app.services.channel_state import IMPORT_FAILED, IMPORT_SENT, mark_import
from app.services.delivery import deliver_pending, due_deliveries
from app.services.delivery_probe import (
    drain_endpoint,
    endpoints_to_probe,
    probe_endpoint,
    sendable_now,
)
from app.services.inbox import pending_event_blocks, pending_event_ids
from app.services.reconciliation import reconcile_due, reconcile_page, reconciliation_needed
from app.services.revision_intake import deliveries_due
from app.services.webhook_events import EventOutcome, process_events
from app.services.webhook_registration import check_webhook

log = logging.getLogger(__name__)

# Events younger than this are left to the job the intake asked for itself.
INBOX_GRACE_SECONDS = 30.0
# A round of reconciliation reads at most this many feed pages, one job each.
MAX_RECONCILE_STEPS = 1_000
# A delivery due later than this is left to the sweep, rather than held deferred in the queue.
MAX_DELIVERY_DEFER_SECONDS = 600.0


def _backoff(ctx: WorkerContext) -> float:
    return float(min(300, 5 * 2 ** (ctx.get("job_try", 1) - 1)))


async def process_webhook_events(ctx: WorkerContext, block: int) -> None:
    """Job: the pending events of one block of ids (requests.WEBHOOK_BLOCK_SIZE), its booking
    events fetched, applied and acked as one batch; then ask for what follows from them."""
    async with ctx["session_factory"]() as session:
        event_ids = await pending_event_ids(session, among=requests.block_ids(block))
    await _process(ctx, event_ids)


async def process_block_again_if_pending(ctx: WorkerContext, block: int) -> None:
    """After a block's run ended and its id is free (JobSpec.after_end): events committed
    while it ran found its id taken, and would otherwise wait for the sweep."""
    if ctx["channex"] is None:
        return  # sync is off: booking events stay pending, asking again would only spin
    async with ctx["session_factory"]() as session:
        pending = await pending_event_ids(session, among=requests.block_ids(block))
    if pending:
        await request_event_block(ctx["queue"], block)


async def process_webhook_event(ctx: WorkerContext, event_id: int) -> None:
    """Job: act on one stored webhook, then ask for what follows from it."""
    await _process(ctx, [event_id])


async def _process(ctx: WorkerContext, event_ids: Sequence[int]) -> None:
    processed = await process_events(
        ctx["session_factory"], ctx["settings"], ctx["channex"], event_ids
    )
    for outcome in processed.outcomes:
        await _follow_up(ctx, outcome)
    if processed.retry_after is not None:  # Channex was away for some: they stay pending
        raise Retry(defer=max(_backoff(ctx), processed.retry_after))


async def _follow_up(ctx: WorkerContext, outcome: EventOutcome) -> None:
    settings, queue = ctx["settings"], ctx["queue"]
    await _request_deliveries(ctx, outcome.booking_ids)
    if outcome.reconcile:
        await request_reconciliation(queue, defer=RECONCILE_SOON_SECONDS)
    if outcome.drift_check is not None:
        delay = settings.ari_webhook_drift_delay_seconds
        await request_drift_check(queue, outcome.drift_check, defer=delay)
    if outcome.connection is not None:
        change = outcome.connection
        await request_connection_follow_up(queue, change.property_id, change.channex_channel_id)
    await request_channel_state_deliveries(queue, outcome.channel_deliveries)


async def drain_inbox(ctx: WorkerContext) -> None:
    """Job: one job per block of pending inbox events (the intake's InboxWaker asks for
    this). Job ids are per block, so blocks already queued or running are not queued twice."""
    async with ctx["session_factory"]() as session:
        blocks = await pending_event_blocks(session, requests.WEBHOOK_BLOCK_SIZE)
    wanted = [requests.webhook_block(block) for block in blocks]
    # Asked first, in one round trip: under a burst every drain finds most blocks queued
    # already, and an enqueue costs several round trips only to be refused. This took a
    # third of the workers' time at 1,000 bookings (benchmarks/bookings_speed.py).
    queued = await ctx["queue"].queued([job.job_id for job in wanted if job.job_id])
    for job in wanted:
        if job.job_id not in queued:
            await job.send(ctx["queue"])


async def reconcile_bookings(ctx: WorkerContext, force: int = 0, step: int = 0) -> None:
    """Job: one page of a reconciliation round. While a page acks any and more may follow,
    step + 1 reads the next page in a job of its own: no run is long enough to hold arq's
    in-progress lock past recovery time (see WORK_BUDGET_SECONDS)."""
    channex, sessions, settings = ctx["channex"], ctx["session_factory"], ctx["settings"]
    if channex is None:
        return
    if step == 0 and not await reconcile_due(sessions, settings, force=bool(force)):
        return
    page = await reconcile_page(sessions, settings, channex, budget_seconds=WORK_BUDGET_SECONDS)
    if page is None:
        return
    await _request_deliveries(ctx, page.applied.booking_ids)
    if page.go_on and step < MAX_RECONCILE_STEPS:
        await request_reconciliation_step(ctx["queue"], step + 1)


async def deliver_booking(ctx: WorkerContext, endpoint_id: int, booking_id: int) -> None:
    """Job: push the booking's undelivered revisions to the endpoint, oldest first; after
    WORK_BUDGET_SECONDS the rest goes on in a run of its own, so the job stays short."""
    done = await deliver_pending(
        ctx["session_factory"],
        ctx["settings"],
        ctx["pms_http"],
        endpoint_id=endpoint_id,
        booking_id=booking_id,
        budget_seconds=WORK_BUDGET_SECONDS,
    )
    queue = ctx["queue"]
    if done.probe_in is not None and done.probe_in <= MAX_DELIVERY_DEFER_SECONDS:
        await request_endpoint_probe(queue, endpoint_id, defer=done.probe_in)
    if done.recovered:
        await request_endpoint_drain(queue, endpoint_id)
    if done.more:
        raise Retry(defer=0)
    if done.defer is not None and done.defer <= MAX_DELIVERY_DEFER_SECONDS:
        raise Retry(defer=done.defer)


async def probe_pms_endpoint(ctx: WorkerContext, endpoint_id: int) -> None:
    """Job: while the endpoint fails, send its oldest pending delivery every probe interval;
    once the PMS takes it, drain the backlog that was made due."""
    async with ctx["session_factory"]() as session:
        probe = await probe_endpoint(session, ctx["settings"], ctx["pms_http"], endpoint_id)
        await session.commit()
    if probe.recovered:
        await request_endpoint_drain(ctx["queue"], endpoint_id)
    elif probe.retry is not None and probe.retry <= MAX_DELIVERY_DEFER_SECONDS:
        raise Retry(defer=probe.retry)  # a longer pause (Retry-After) is left to the sweep


async def drain_pms_endpoint(ctx: WorkerContext, endpoint_id: int) -> None:
    """Job: send the endpoint's due deliveries, a few bookings at a time, each booking's in
    order: new revisions, and a recovered endpoint's backlog. A booking whose next delivery
    is due later gets its own deferred job (so that the endpoint's job never waits out one
    booking's retry); after WORK_BUDGET_SECONDS the rest goes on in a run of its own."""
    queue = ctx["queue"]
    drained = await drain_endpoint(
        ctx["session_factory"],
        ctx["settings"],
        ctx["pms_http"],
        endpoint_id,
        budget_seconds=WORK_BUDGET_SECONDS,
    )
    for booking_id, defer in drained.later:
        if defer <= MAX_DELIVERY_DEFER_SECONDS:
            await request_delivery(queue, endpoint_id, booking_id, defer=defer)
    if drained.probe_in is not None and drained.probe_in <= MAX_DELIVERY_DEFER_SECONDS:
        await request_endpoint_probe(queue, endpoint_id, defer=drained.probe_in)
    if drained.more:
        raise Retry(defer=0)


async def drain_again_if_due(ctx: WorkerContext, endpoint_id: int) -> None:
    """After a drain's run ended and its id is free (JobSpec.after_end): deliveries made due
    while it ran (or of bookings it had done with) found its id taken."""
    async with ctx["session_factory"]() as session:
        due = await sendable_now(session, endpoint_id)
    if due:
        await request_endpoint_drain(ctx["queue"], endpoint_id)


async def import_channel_reservations(ctx: WorkerContext, channex_channel_id: str) -> None:
    """Job: ask the OTA for reservations made before the connection; they then arrive as
    ordinary revisions (webhook and feed), and a reconciliation reads them at once. Channex
    answers with no count: the channel's go-live records only that it was sent (or refused)."""
    channex = ctx["channex"]
    if channex is None:
        return
    try:
        await channex.execute_channel_action(channex_channel_id, "load_future_reservations")
    except TRANSIENT_ERRORS as exc:
        raise Retry(defer=_backoff(ctx)) from exc
    except ChannexError as exc:
        async with ctx["session_factory"]() as session:
            await mark_import(session, channex_channel_id, IMPORT_FAILED, exc.title)
            await session.commit()
        log.warning("reservation import refused", extra={"channel": channex_channel_id})
        return
    async with ctx["session_factory"]() as session:
        await mark_import(session, channex_channel_id, IMPORT_SENT)
        await session.commit()
    await request_reconciliation(ctx["queue"])


async def ensure_channex_webhook(ctx: WorkerContext, force: int = 0) -> None:
    """Job: create or repair channel-sync's Channex webhook (hourly, and at start-up)."""
    channex = ctx["channex"]
    if channex is None:
        return
    try:
        result = await check_webhook(
            ctx["session_factory"], ctx["settings"], channex, force=bool(force)
        )
    except TRANSIENT_ERRORS:
        log.warning("channex webhook check failed; the next sweep retries")
        return
    if result is not None:
        log.info("channex webhook %s", result)


async def scan_bookings(session: AsyncSession) -> list[JobRequest]:
    """Sweep scanner: inbox events not yet processed, deliveries due, a probe on each failing
    PMS endpoint, and the periodic reconciliation and webhook check (all throttle
    themselves)."""
    blocks = await pending_event_blocks(
        session, requests.WEBHOOK_BLOCK_SIZE, older_than=INBOX_GRACE_SECONDS
    )
    jobs = [requests.webhook_block(block) for block in blocks]
    endpoints = sorted({e for e, _ in await due_deliveries(session)})
    jobs += [requests.endpoint_drain(e) for e in endpoints]
    jobs += [requests.endpoint_probe(e) for e in await endpoints_to_probe(session)]
    if await reconciliation_needed(session):
        jobs.append(requests.reconciliation())
    jobs.append(requests.webhook_check())
    return jobs


async def _request_deliveries(ctx: WorkerContext, booking_ids: Sequence[int]) -> None:
    pairs = await deliveries_due(ctx["session_factory"], booking_ids)
    await request_deliveries(ctx["queue"], pairs)
