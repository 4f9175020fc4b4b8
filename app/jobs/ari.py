"""ARI jobs: push a property's unsent cells, and the full sync, under one job id per property."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from arq.worker import Retry
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.jobs.context import WorkerContext
from app.jobs.queue import JobQueue
from app.jobs.sweep import PendingJob
from app.models import AriCell, AriState, Property
from app.services.ari_push import FULL_SYNC_JOB, PUSH_JOB, ari_job_id, push_property

log = logging.getLogger(__name__)


async def push_ari(ctx: WorkerContext, property_pk: int) -> None:
    """Job: send the property's unsent cells; runs again (Retry) while anything is left."""
    await _push(ctx, property_pk)


async def full_sync_ari(ctx: WorkerContext, property_pk: int) -> None:
    """Job (full-sync queue): the whole horizon in one request per endpoint, then any changes."""
    await _push(ctx, property_pk)


async def _push(ctx: WorkerContext, property_pk: int) -> None:
    channex = ctx["channex"]
    if channex is None:
        return  # sync disabled: the cells stay pending, the sweep brings them back later
    delay = await push_property(
        ctx["session_factory"], channex, property_pk, attempt=ctx.get("job_try", 1)
    )
    if delay is not None:
        # Never sleep in a worker slot: the queue runs this job again after `delay` (same id).
        raise Retry(defer=delay)


async def scan_ari(session: AsyncSession) -> Sequence[PendingJob]:
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
    return [
        PendingJob(FULL_SYNC_JOB if pk in owed_full else PUSH_JOB, (pk,), job_id=ari_job_id(pk))
        for pk in sorted(pending)
    ]


async def request_push(
    queue: JobQueue, property_pk: int, *, full: bool = False, defer: float | None = None
) -> None:
    """Ask for the property's ARI job after a commit; if the queue is out of reach the sweep
    finds the pending cells (or owed full sync) in the database later."""
    job = FULL_SYNC_JOB if full else PUSH_JOB
    try:
        await queue.enqueue(job, property_pk, job_id=ari_job_id(property_pk), defer=defer)
    except Exception:
        log.exception("could not enqueue %s", job, extra={"property": property_pk})
