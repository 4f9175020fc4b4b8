"""Onboarding jobs: retry the Channex side of entities the PMS put while Channex failed."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.channex.errors import ChannexError
from app.errors import AppError
from app.jobs import requests
from app.jobs.context import WorkerContext
from app.jobs.requests import JobRequest
from app.services.onboarding_retry import MODELS, Kind, list_unsynced, resync
from app.services.sync_state import record_failure

logger = logging.getLogger(__name__)


async def scan_onboarding(session: AsyncSession) -> Sequence[JobRequest]:
    """Rows Channex does not hold as we last said: one retry job each."""
    return [requests.onboarding_sync(kind, ident) for kind, ident in await list_unsynced(session)]


async def sync_onboarding(ctx: WorkerContext, kind: str, ident: int) -> None:
    """Sync one onboarded row to Channex again; a failure is recorded for the next sweep."""
    channex = ctx["channex"]
    if channex is None or kind not in MODELS:
        return
    checked: Kind = kind
    async with ctx["session_factory"]() as session:
        try:
            if await resync(session, channex, checked, ident):
                await session.commit()
                logger.info("onboarding resynced", extra={"kind": kind, "id": ident})
        except (ChannexError, AppError) as exc:
            await session.rollback()
            await record_failure(session, MODELS[checked], {"id": ident}, {}, _describe(exc))
            await session.commit()
            logger.warning("onboarding resync failed", extra={"kind": kind, "id": ident})


def _describe(exc: ChannexError | AppError) -> str:
    title = exc.title if isinstance(exc, ChannexError) else str(exc)
    return f"{type(exc).__name__}: {title}"
