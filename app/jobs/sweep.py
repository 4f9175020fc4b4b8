"""The periodic sweep: the database says what is pending, the sweep enqueues it.

A lost queue message, a crashed worker or a Redis restart therefore delays work but never loses
it, and since job ids deduplicate, sweeping work that is already queued changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.jobs.ari import scan_ari, scan_ari_nightly
from app.jobs.ari_watch import scan_ari_drift
from app.jobs.bookings import scan_bookings
from app.jobs.channels import scan_channels
from app.jobs.context import WorkerContext
from app.jobs.onboarding import scan_onboarding
from app.jobs.requests import JobQueue, JobRequest
from app.metrics import SWEEP_ENQUEUED, SWEEP_FOUND

logger = logging.getLogger(__name__)

# A scanner returns the jobs the database says should run, each with its stable job id
# (app/jobs/requests.py), so that sweeping work already queued changes nothing.
Scanner = Callable[[AsyncSession], Awaitable[Sequence[JobRequest]]]

# Every pending-work scanner; add one here for each new kind of work.
SCANNERS: tuple[Scanner, ...] = (
    scan_onboarding,
    scan_ari,
    scan_ari_nightly,
    scan_ari_drift,
    scan_bookings,
    scan_channels,
)


async def sweep(ctx: WorkerContext) -> None:
    """Job: enqueue whatever the database says is pending."""
    await sweep_pending(ctx["session_factory"], ctx["queue"], SCANNERS)


async def sweep_pending(
    session_factory: async_sessionmaker[AsyncSession],
    queue: JobQueue,
    scanners: Sequence[Scanner],
) -> int:
    """Run every scanner and enqueue what they find; returns how many jobs were newly queued."""
    pending = await _scan(session_factory, scanners)
    enqueued = 0
    for job in pending:
        try:
            enqueued += await job.send(queue)
        except Exception:
            # One bad job (unknown name, Redis hiccup) must not hide the others; next sweep retries.
            logger.exception(
                "sweep could not enqueue %s", job.job_name, extra={"job": job.job_name}
            )
    SWEEP_FOUND.inc(len(pending))
    SWEEP_ENQUEUED.inc(enqueued)
    # Quiet when idle: the sweep runs every minute on every deployment.
    level = logging.INFO if pending else logging.DEBUG
    logger.log(level, "sweep found %d pending jobs, enqueued %d", len(pending), enqueued)
    return enqueued


async def _scan(
    session_factory: async_sessionmaker[AsyncSession], scanners: Sequence[Scanner]
) -> list[JobRequest]:
    """Collect pending jobs in one read-only session; a failing scanner is logged and skipped."""
    pending: list[JobRequest] = []
    async with session_factory() as session:
        for scanner in scanners:
            try:
                pending.extend(await scanner(session))
            except Exception:
                logger.exception("sweep scanner %s failed", _name(scanner))
                # PostgreSQL refuses further statements in a failed transaction.
                await session.rollback()
    return pending


def _name(scanner: Scanner) -> str:
    return getattr(scanner, "__qualname__", repr(scanner))
