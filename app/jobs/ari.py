"""ARI jobs: push a property's unsent cells, and the full sync, under one job id per property."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from arq.worker import Retry
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.channex.errors import ChannexRateLimitedError, ChannexUnavailableError
from app.db import utcnow
from app.domain.ari_schedule import nightly_due
from app.jobs import requests
from app.jobs.context import WorkerContext
from app.jobs.requests import JobRequest, request_push
from app.models import AriCell, AriState, Property
from app.services.ari_drift import check_property_drift
from app.services.ari_full_syncs import request_full_sync
from app.services.ari_mappings import lock_ari_state
from app.services.ari_push import PushLeft, owed_push, push_property

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 300.0


async def push_ari(ctx: WorkerContext, property_pk: int) -> None:
    """Job: send the property's unsent cells; runs again (Retry) while Channex makes it wait,
    and is followed by a fresh push (after_end) when cells changed while it ran."""
    await _push(ctx, property_pk)


async def full_sync_ari(ctx: WorkerContext, property_pk: int) -> None:
    """Job (full-sync queue): the whole horizon in one request per endpoint, then any changes."""
    await _push(ctx, property_pk)


async def _push(ctx: WorkerContext, property_pk: int) -> None:
    channex = ctx["channex"]
    if channex is None:
        return  # sync disabled: the cells stay pending, the sweep brings them back later
    left = await push_property(ctx["session_factory"], channex, property_pk)
    if left is None or left.reason == "more":
        # Cells changed during the push: this run ends, and once its id is free the job's
        # after_end (push_again_if_owed) queues a fresh push at once. An endpoint that sent
        # nothing in this push sends them then; for one that just sent, the limiter defers
        # that push to the next slot, and whatever changes meanwhile rides along. A fresh
        # job, not a Retry: a PMS that never pauses would spend the job's tries, two a slot,
        # in about five minutes.
        return
    # Never sleep in a worker slot: the queue runs this job again later (same id).
    raise Retry(defer=retry_delay(left, ctx.get("job_try", 1)))


async def push_again_if_owed(ctx: WorkerContext, property_pk: int) -> None:
    """After an ARI job's run ended and its id is free (JobSpec.after_end): a fresh push of
    the cells changed while it ran. That covers cells the push saw left (`more`) and cells
    committed after its last look, whose own request found the id still taken and which
    would otherwise wait for the sweep."""
    if ctx["channex"] is None:
        return  # sync disabled: the job sends nothing, so asking again would only spin
    async with ctx["session_factory"]() as session:
        owed = await owed_push(session, property_pk, utcnow())
    if owed is not None:
        await request_push(ctx["queue"], property_pk, full=owed == "full")


async def property_organization(ctx: WorkerContext, property_pk: int) -> int | None:
    """The organization an ARI job works for (JobSpec.tenant): a property never changes
    organization, so the answer can be remembered."""
    async with ctx["session_factory"]() as session:
        stmt = select(Property.organization_id).where(Property.id == property_pk)
        return await session.scalar(stmt)


def retry_delay(left: PushLeft, job_try: int) -> float:
    """When the property's push runs again after Channex made it wait: when the limiter (or
    Channex) says after a rate limit, and backing off (5 s doubling, at most
    MAX_BACKOFF_SECONDS) while Channex is unavailable."""
    if left.reason == "rate_limited":
        return left.retry_after
    return min(MAX_BACKOFF_SECONDS, 5.0 * 2.0 ** (job_try - 1))


async def scan_ari(session: AsyncSession) -> Sequence[JobRequest]:
    """Sweep scanner: every connected property with unsent cells or a full sync owed."""
    live = Property.channex_property_id.is_not(None) & Property.disconnected_at.is_(None)
    dirty = (
        select(AriCell.property_id)
        .join(Property, Property.id == AriCell.property_id)
        .where(AriCell.dirty, live)
        .distinct()
    )
    full = (
        select(AriState.property_id)
        .join(Property, Property.id == AriState.property_id)
        .where(or_(AriState.full_availability, AriState.full_restrictions), live)
    )
    owed_full = set((await session.execute(full)).scalars())
    pending = set((await session.execute(dirty)).scalars()) | owed_full
    return [requests.ari_push(pk, full=pk in owed_full) for pk in sorted(pending)]


# Channex unavailable for the nightly check: try again within the property's window.
NIGHTLY_RETRY_SECONDS = 300.0


async def nightly_ari(ctx: WorkerContext, property_pk: int) -> None:
    """Job (off-peak, once a day per property): the drift check over the horizon (repairing
    the differing cells if configured) and, if enabled, the scheduled full sync."""
    settings, channex = ctx["settings"], ctx["channex"]
    if channex is None:
        return
    async with ctx["session_factory"]() as session:
        drift = None
        if settings.ari_nightly_drift_check:
            repair = settings.ari_nightly_drift_repair
            try:
                drift = await check_property_drift(session, channex, property_pk, repair=repair)
            except ChannexRateLimitedError as exc:
                raise Retry(defer=exc.retry_after) from exc
            except ChannexUnavailableError as exc:
                raise Retry(defer=NIGHTLY_RETRY_SECONDS) from exc
            if drift is not None and drift.stale:  # cells were written as Channex was read
                raise Retry(defer=NIGHTLY_RETRY_SECONDS)
        full = settings.ari_daily_full_sync
        if full:
            await request_full_sync(session, property_pk)
        state = await lock_ari_state(session, property_pk)
        state.nightly_at = utcnow()
        await session.commit()
    if drift is not None and drift.differences:
        log.warning(
            "ari drift",
            extra={"property": property_pk, "differences": len(drift.differences),
                   "repaired": drift.repaired},
        )  # fmt: skip
    if full or (drift is not None and drift.repaired and drift.differences):
        await request_push(ctx["queue"], property_pk, full=full)


async def scan_ari_nightly(session: AsyncSession) -> Sequence[JobRequest]:
    """Sweep scanner: connected properties whose off-peak slot has come and not been served."""
    return await nightly_pending(session, utcnow())


async def nightly_pending(session: AsyncSession, now: datetime) -> list[JobRequest]:
    live = Property.channex_property_id.is_not(None) & Property.disconnected_at.is_(None)
    stmt = (
        select(Property.id, Property.timezone, AriState.nightly_at)
        .outerjoin(AriState, AriState.property_id == Property.id)
        .where(live)
    )
    return [
        requests.nightly_ari(pk)
        for pk, timezone, last in (await session.execute(stmt)).all()
        if nightly_due(now, timezone, pk, last)
    ]
