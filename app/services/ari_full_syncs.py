"""Full syncs as something to follow: owed (queued), started by the property's next push
(running), then done or failed, with the sync runs each one produced.

The flags on `ari_state` still say what the push must send; a `full_sync` row says whose
request that is. Every change of either happens under the property's ARI lock, so a request
and a push never disagree on which full sync is queued or running.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import utcnow
from app.errors import not_found
from app.models import AriState, FullSync, SyncRun
from app.services.access import Principal
from app.services.ari_mappings import lock_ari_state
from app.services.properties import get_property

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


async def request_full_sync(session: AsyncSession, property_pk: int) -> FullSync:
    """Owe the property a full sync of both endpoints (sent by the next ARI job). A request
    while one is still queued joins it; one already running has read the horizon, so a
    request during it gets a full sync of its own, after it."""
    state = await lock_ari_state(session, property_pk)
    state.full_availability = True
    state.full_restrictions = True
    state.full_sync_requested_at = utcnow()
    queued = await _find(session, property_pk, QUEUED)
    if queued is None:
        queued = FullSync(property_id=property_pk, state=QUEUED, requested_at=utcnow())
        session.add(queued)
    await session.flush()
    return queued


async def start_full_sync(session: AsyncSession, property_pk: int) -> int | None:
    """In the push's plan: the full sync it serves, if one is owed (the queued one becomes
    running; a running one, interrupted by a rate limit, goes on)."""
    state = await session.get(AriState, property_pk)
    owed = state is not None and (state.full_availability or state.full_restrictions)
    if not owed:
        # Sent, but not marked finished (the worker died in between): finish it now.
        running = await _find(session, property_pk, RUNNING)
        if running is not None:
            await lock_ari_state(session, property_pk)
            await finish_full_sync(session, running.id)
        return None
    state = await lock_ari_state(session, property_pk)
    if not (state.full_availability or state.full_restrictions):
        return None  # sent meanwhile
    full_sync = await _find(session, property_pk, RUNNING) or await _find(
        session, property_pk, QUEUED
    )
    if full_sync is None:  # owed by a flag set before full syncs were rows
        full_sync = FullSync(property_id=property_pk, requested_at=utcnow())
        session.add(full_sync)
    if full_sync.state != RUNNING:
        full_sync.state, full_sync.started_at = RUNNING, utcnow()
    await session.flush()
    return full_sync.id


async def finish_full_sync(
    session: AsyncSession, full_sync_id: int, *, failed: bool = False
) -> None:
    """Under the property's lock (the caller's): every request went out. Failed when Channex
    rejected one of them whole (its cells show why) or was unavailable."""
    full_sync = await session.get(FullSync, full_sync_id, populate_existing=True)
    if full_sync is None or full_sync.state not in (QUEUED, RUNNING):
        return
    rejected = exists().where(SyncRun.full_sync_id == full_sync_id, SyncRun.outcome == FAILED)
    failed = failed or bool((await session.execute(select(rejected))).scalar())
    full_sync.state, full_sync.finished_at = (FAILED if failed else DONE), utcnow()
    await session.flush()


async def another_queued(session: AsyncSession, property_pk: int) -> bool:
    """A full sync asked for after the running one started: its endpoints stay owed."""
    return await _find(session, property_pk, QUEUED) is not None


async def _find(session: AsyncSession, property_pk: int, state: str) -> FullSync | None:
    stmt = (
        select(FullSync)
        .where(FullSync.property_id == property_pk, FullSync.state == state)
        .order_by(FullSync.id)
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_full_sync(
    session: AsyncSession, principal: Principal, pms_property_id: str, full_sync_id: int
) -> tuple[FullSync, Sequence[SyncRun]]:
    """A full sync of the property and its runs, oldest first; 404 for another property's."""
    prop, _ = await get_property(session, principal, pms_property_id)
    full_sync = await session.get(FullSync, full_sync_id)
    if full_sync is None or full_sync.property_id != prop.id:
        raise not_found("full sync", str(full_sync_id))
    return full_sync, await list_full_sync_runs(session, full_sync.id)


async def list_full_sync_runs(session: AsyncSession, full_sync_id: int) -> Sequence[SyncRun]:
    stmt = select(SyncRun).where(SyncRun.full_sync_id == full_sync_id).order_by(SyncRun.id)
    return (await session.execute(stmt)).scalars().all()
