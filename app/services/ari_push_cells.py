"""What a push writes back to its cells: before a request, the fields in flight are forgotten
(Channex may apply a write we never hear back from); after it, what Channex accepted.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.models import AriCell
from app.services.ari_mappings import lock_ari_state
from app.services.ari_outcome import Fields, Key
from app.services.ari_state import differs


async def update_cells(
    session: AsyncSession,
    property_pk: int,
    endpoint: str,
    versions: Mapping[Key, int],
    sent: dict[Key, Fields],
    failed: dict[Key, str],
) -> None:
    """Under the property's lock (the caller's): pushed := what Channex accepted, failures per
    cell; a cell stays dirty while it differs from what the PMS wants."""
    keys = set(sent) | set(failed)
    if not keys:
        return
    entities = {entity for entity, _ in keys}
    days = [day for _, day in keys]
    stmt = select(
        AriCell.entity_id, AriCell.stay_date, AriCell.desired, AriCell.pushed, AriCell.version,
        AriCell.failure, AriCell.dirty, AriCell.held_at,
    ).where(
        AriCell.property_id == property_pk,
        AriCell.kind == endpoint,
        AriCell.entity_id.in_(entities),
        AriCell.stay_date.between(min(days), max(days)),
    )  # fmt: skip
    rows = []
    for entity_id, day, desired, before, version, old_failure, old_dirty, held_at in (
        await (await session.connection()).execute(stmt)
    ).all():
        key = (entity_id, day)
        if key not in keys:
            continue
        pushed = {**before, **sent.get(key, {})}
        # A failure is about the value we sent: if the PMS changed the cell since, send anew.
        failure = failed.get(key) if version == versions.get(key) else None
        dirty = failure is None and held_at is None and differs(desired, pushed)
        if (pushed, failure, dirty) == (before, old_failure, old_dirty):
            continue  # e.g. a full sync of cells Channex already had: nothing to write
        rows.append(
            {
                "property_id": property_pk, "kind": endpoint, "entity_id": entity_id,
                "stay_date": day, "pushed": pushed, "failure": failure, "dirty": dirty,
            }
        )  # fmt: skip
    if rows:
        await session.execute(update(AriCell), rows)


async def forget_in_flight(
    session_factory: async_sessionmaker[AsyncSession],
    property_pk: int,
    endpoint: str,
    cells: dict[Key, Fields],
) -> None:
    """Before a request: the fields it changes are unknown in Channex until it answers.

    Channex may apply a write whose answer we never see: a hung request cancelled by the job's
    time limit, a worker killed mid-request (the fault benchmark saw it). `pushed` must then not
    keep the value from before the write, or a PMS change back to that value would look in sync
    and never be sent, while Channex holds the unanswered one. So `pushed` forgets those fields
    first (as a hold does, ari_holds), in its own committed transaction: no error handler runs
    on SIGKILL. The answer records them again; fields that already hold the value sent are kept.
    """
    if not cells:
        return
    entities = {entity for entity, _ in cells}
    days = [day for _, day in cells]
    async with session_factory() as session:
        await lock_ari_state(session, property_pk)
        stmt = select(AriCell.entity_id, AriCell.stay_date, AriCell.pushed).where(
            AriCell.property_id == property_pk,
            AriCell.kind == endpoint,
            AriCell.entity_id.in_(entities),
            AriCell.stay_date.between(min(days), max(days)),
        )
        rows = []
        for entity_id, day, pushed in (await (await session.connection()).execute(stmt)).all():
            sending = cells.get((entity_id, day))
            if sending is None:
                continue
            kept = {k: v for k, v in pushed.items() if k not in sending or sending[k] == v}
            if kept != pushed:
                rows.append(
                    {
                        "property_id": property_pk, "kind": endpoint, "entity_id": entity_id,
                        "stay_date": day, "pushed": kept,
                    }
                )  # fmt: skip
        if rows:
            await session.execute(update(AriCell), rows)
        await session.commit()
