"""The drift check that Channex's `ari` webhook asks for: one job per property, coalescing."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from arq.worker import Retry
from sqlalchemy.ext.asyncio import AsyncSession

from app.channex.errors import ChannexRateLimitedError, ChannexUnavailableError
from app.channex.ratelimit import spacing
from app.jobs import requests
from app.jobs.context import WorkerContext
from app.jobs.requests import JobRequest, request_push
from app.services.ari_watch import check_pending_drift, pending_drift_properties

log = logging.getLogger(__name__)

# Channex unavailable: try again a little later; the span stays pending meanwhile.
UNAVAILABLE_RETRY_SECONDS = 60.0


async def check_ari_drift(ctx: WorkerContext, property_pk: int) -> None:
    """Job: the drift check over the dates `ari` webhooks named; repairs if configured."""
    settings, channex = ctx["settings"], ctx["channex"]
    if channex is None:
        return  # sync disabled: the span stays pending, the sweep brings it back later
    repair = settings.ari_nightly_drift_repair
    async with ctx["session_factory"]() as session:
        try:
            done = await check_pending_drift(session, channex, property_pk, repair=repair)
        except ChannexRateLimitedError as exc:
            raise Retry(defer=exc.retry_after) from exc
        except ChannexUnavailableError as exc:
            raise Retry(defer=UNAVAILABLE_RETRY_SECONDS) from exc
        await session.commit()
    if done.writes_first:
        spaced = spacing(settings.channex_rate_limit_per_minute, settings.channex_rate_limit_margin)
        raise Retry(defer=spaced)
    drift = done.drift
    if drift is not None and drift.differences:
        log.warning(
            "ari drift after a change inside Channex",
            extra={"property": property_pk, "differences": len(drift.differences),
                   "repaired": drift.repaired},
        )  # fmt: skip
        if drift.repaired:
            await request_push(ctx["queue"], property_pk)
    if done.again:
        # A newer event came in during the check; this job id is still ours, so run again.
        raise Retry(defer=settings.ari_webhook_drift_delay_seconds)


async def scan_ari_drift(session: AsyncSession) -> Sequence[JobRequest]:
    """Sweep scanner: connected properties with a span still to check."""
    return [requests.drift_check(pk) for pk in await pending_drift_properties(session)]
