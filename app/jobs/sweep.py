"""The periodic sweep: the database says what is pending, the sweep enqueues it.

A lost queue message, a crashed worker or a Redis restart therefore delays work but never loses
it, and since job ids deduplicate, sweeping work that is already queued changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

if TYPE_CHECKING:
    from app.jobs.context import WorkerContext
    from app.jobs.queue import JobQueue

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PendingJob:
    """A job the database says should run; give it a stable `job_id` so repeats deduplicate."""

    job_name: str
    args: tuple[str | int, ...]
    job_id: str | None = None
    defer: float | None = None


Scanner = Callable[[AsyncSession], Awaitable[Sequence[PendingJob]]]


def build_scanners() -> tuple[Scanner, ...]:
    """Every pending-work scanner; add one line here per scanner (imported here, no cycles)."""
    from app.jobs.ari import scan_ari, scan_ari_nightly
    from app.jobs.ari_watch import scan_ari_drift
    from app.jobs.bookings import scan_bookings
    from app.jobs.onboarding import scan_onboarding

    return (scan_onboarding, scan_ari, scan_ari_nightly, scan_ari_drift, scan_bookings)


async def sweep(ctx: WorkerContext) -> None:
    """Job: enqueue whatever the database says is pending."""
    await sweep_pending(ctx["session_factory"], ctx["queue"], build_scanners())


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
            enqueued += await queue.enqueue(
                job.job_name, *job.args, job_id=job.job_id, defer=job.defer
            )
        except Exception:
            # One bad job (unknown name, Redis hiccup) must not hide the others; next sweep retries.
            logger.exception(
                "sweep could not enqueue %s", job.job_name, extra={"job": job.job_name}
            )
    # Quiet when idle: the sweep runs every minute on every deployment.
    level = logging.INFO if pending else logging.DEBUG
    logger.log(level, "sweep found %d pending jobs, enqueued %d", len(pending), enqueued)
    return enqueued


async def _scan(
    session_factory: async_sessionmaker[AsyncSession], scanners: Sequence[Scanner]
) -> list[PendingJob]:
    """Collect pending jobs in one read-only session; a failing scanner is logged and skipped."""
    pending: list[PendingJob] = []
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
