"""What a push writes back to its cells: before a request, the fields in flight are forgotten
(Channex may apply a write we never hear back from); after it, what Channex accepted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.models import AriCell
from app.services.ari_mappings import lock_ari_state
from app.services.ari_outcome import Fields, Key
from app.services.ari_push_known import KnownCell, KnownCells
from app.services.ari_rows import RAW_DESIRED, RAW_PUSHED, RAW_STAY_DATE, RowDecoder
from app.services.ari_state import differs


async def update_cells(
    session: AsyncSession,
    property_pk: int,
    endpoint: str,
    versions: Mapping[Key, int],
    sent: dict[Key, Fields],
    failed: dict[Key, str],
    known: KnownCells | None = None,
) -> None:
    """Under the property's lock (the caller's): pushed := what Channex accepted, failures per
    cell; a cell stays dirty while it differs from what the PMS wants. `known`: the cells as
    they still are in the database (ari_push_known, covering these), kept up to date."""
    if not sent and not failed:
        return
    cells: Iterable[tuple[Key, Fields | None, KnownCell, bool, bool]]
    if known is None:
        cells = await _read_for_update(session, property_pk, endpoint, versions, sent, failed)
    elif not failed:
        # Only the push took the lock since these were read: no version moved, none is held
        # (the plan reads no held cell, and a hold takes the lock).
        cells = (
            (key, applied, cell, True, False) for key, applied, cell in known.rows(endpoint, sent)
        )
    else:
        wanted = dict.fromkeys(set(sent) | set(failed))
        cells = (
            (key, sent.get(key), cell, True, False) for key, _, cell in known.rows(endpoint, wanted)
        )
    compared = _Compared()
    rows = []
    for key, applied, cell, current, held in cells:
        pushed, differing = compared.answer(cell.desired, cell.pushed, applied)
        # A failure is about the value we sent: if the PMS changed the cell since, send anew.
        failure = failed.get(key) if failed and current else None
        dirty = failure is None and not held and differing
        if pushed is cell.pushed and failure == cell.failure and dirty == cell.dirty:
            continue  # e.g. a full sync of cells Channex already had: nothing to write
        cell.pushed, cell.failure, cell.dirty = pushed, failure, dirty
        rows.append(
            {
                "property_id": property_pk, "kind": endpoint, "entity_id": key[0],
                "stay_date": key[1], "pushed": pushed, "failure": failure, "dirty": dirty,
            }
        )  # fmt: skip
    if rows:
        await session.execute(update(AriCell), rows)


async def _read_for_update(
    session: AsyncSession,
    property_pk: int,
    endpoint: str,
    versions: Mapping[Key, int],
    sent: dict[Key, Fields],
    failed: dict[Key, str],
) -> list[tuple[Key, Fields | None, KnownCell, bool, bool]]:
    """The cells answered as stored: (key, fields applied, cell, whether its version is the one
    sent, whether it is held)."""
    keys = set(sent) | set(failed)
    entities = {entity for entity, _ in keys}
    days = [day for _, day in keys]
    stmt = select(
        AriCell.entity_id, RAW_STAY_DATE, RAW_DESIRED, RAW_PUSHED, AriCell.version,
        AriCell.failure, AriCell.dirty, AriCell.held_at,
    ).where(
        AriCell.property_id == property_pk,
        AriCell.kind == endpoint,
        AriCell.entity_id.in_(entities),
        AriCell.stay_date.between(min(days), max(days)),
    )  # fmt: skip
    decoder = RowDecoder()
    cells = []
    for entity_id, raw_day, raw_desired, raw_pushed, version, failure, dirty, held_at in (
        await (await session.connection()).execute(stmt)
    ).all():
        key = (entity_id, decoder.day(raw_day))
        if key not in keys:
            continue
        cell = KnownCell(
            decoder.document(raw_desired), decoder.document(raw_pushed), failure, dirty
        )
        cells.append((key, sent.get(key), cell, version == versions.get(key), held_at is not None))
    return cells


class _Compared:
    """What a cell's answer changes, found once per (desired, pushed, applied) documents: cells
    with equal documents share their dicts (ari_rows), and a full sync re-sends what Channex
    mostly has. Dicts are known by id, and each entry keeps its documents alive: a cell's
    `pushed` replaced during the loop may be its last reference, and a freed dict's id can be
    reused. A new `pushed` is shared by the cells of one entry (documents are read-only)."""

    def __init__(self) -> None:
        self._found: dict[tuple[int, int, int], tuple[Fields, bool, tuple[object, ...]]] = {}

    def answer(
        self, desired: Fields, before: Fields, applied: Fields | None
    ) -> tuple[Fields, bool]:
        """`before` with the fields Channex applied (`before` itself when they change
        nothing), and whether the PMS's value still differs from that."""
        key = (id(desired), id(before), id(applied))
        if (entry := self._found.get(key)) is None:
            pushed = before
            if applied and any(before.get(name) != value for name, value in applied.items()):
                pushed = {**before, **applied}
            entry = (pushed, differs(desired, pushed), (desired, before, applied))
            self._found[key] = entry
        return entry[0], entry[1]


async def forget_in_flight(
    session_factory: async_sessionmaker[AsyncSession],
    property_pk: int,
    endpoint: str,
    cells: dict[Key, Fields],
    known: KnownCells | None = None,
) -> None:
    """Before a request: the fields it changes are unknown in Channex until it answers.

    Channex may apply a write whose answer we never see: a hung request cancelled by the job's
    time limit, a worker killed mid-request (the fault benchmark saw it). `pushed` must then not
    keep the value from before the write, or a PMS change back to that value would look in sync
    and never be sent, while Channex holds the unanswered one. So `pushed` forgets those fields
    first (as a hold does, ari_holds), in its own committed transaction: no error handler runs
    on SIGKILL. The answer records them again; fields that already hold the value sent are kept.
    `known`: what the push knows of the cells, used instead of reading them when still valid.
    """
    if not cells:
        return
    async with session_factory() as session:
        state = await lock_ari_state(session, property_pk)
        pushed_now: Iterable[tuple[Key, Fields, Fields, KnownCell | None]]
        if known is not None and known.cover(state, endpoint, cells):
            pushed_now = (
                (key, sending, cell.pushed, cell)
                for key, sending, cell in known.rows(endpoint, cells)
            )
        else:
            pushed_now = await _read_pushed(session, property_pk, endpoint, cells)
        agreeing: dict[tuple[int, int], tuple[bool, Fields, Fields]] = {}
        rows = []
        for key, sending, pushed, cell in pushed_now:
            # Cells with equal documents share their dicts: compare each pair once, by id (each
            # entry keeps its pair alive: a replaced `cell.pushed` may be freed, its id reused).
            if (entry := agreeing.get((id(sending), id(pushed)))) is None:
                agrees = all(k not in sending or sending[k] == v for k, v in pushed.items())
                entry = agreeing[(id(sending), id(pushed))] = (agrees, sending, pushed)
            if entry[0]:
                continue  # Channex holds what is sent (a full sync's usual case): kept as is
            kept = {k: v for k, v in pushed.items() if k not in sending or sending[k] == v}
            if cell is not None:
                cell.pushed = kept
            rows.append(
                {
                    "property_id": property_pk, "kind": endpoint, "entity_id": key[0],
                    "stay_date": key[1], "pushed": kept,
                }
            )  # fmt: skip
        if rows:
            await session.execute(update(AriCell), rows)
        await session.commit()


async def _read_pushed(
    session: AsyncSession, property_pk: int, endpoint: str, cells: dict[Key, Fields]
) -> list[tuple[Key, Fields, Fields, KnownCell | None]]:
    """Each of `cells` with its fields to send and its stored `pushed`."""
    entities = {entity for entity, _ in cells}
    days = [day for _, day in cells]
    stmt = select(AriCell.entity_id, RAW_STAY_DATE, RAW_PUSHED).where(
        AriCell.property_id == property_pk,
        AriCell.kind == endpoint,
        AriCell.entity_id.in_(entities),
        AriCell.stay_date.between(min(days), max(days)),
    )
    decoder = RowDecoder()
    found: list[tuple[Key, Fields, Fields, KnownCell | None]] = []
    for entity_id, raw_day, raw_pushed in (await (await session.connection()).execute(stmt)).all():
        key = (entity_id, decoder.day(raw_day))
        if (sending := cells.get(key)) is not None:
            found.append((key, sending, decoder.document(raw_pushed), None))
    return found
