"""The desired ARI state: validating PMS batches, storing them per cell, reading them back."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import utcnow
from app.domain.money import to_decimal_string
from app.errors import FieldError, conflict, invalid
from app.models import AriCell, AriChange, Property, RatePlan
from app.schemas_ari import AriBatch, AvailabilityItem, RestrictionsItem
from app.services.access import Principal
from app.services.ari_mappings import Mappings, horizon, load_mappings, lock_ari_state
from app.services.properties import get_property
from app.services.rows import dialect_insert

WEEKDAYS = ("mo", "tu", "we", "th", "fr", "sa", "su")

CellKey = tuple[str, int, date]  # (kind, entity pk, date)
Fields = dict[str, Any]


async def apply_changes(
    session: AsyncSession,
    principal: Principal,
    pms_property_id: str,
    batch: AriBatch,
    *,
    now: datetime | None = None,
) -> tuple[Property, AriChange]:
    """Validate the whole batch, then store it as desired state; 422 with every item's error."""
    prop, _ = await get_property(session, principal, pms_property_id)
    if prop.disconnected_at is not None:
        raise conflict("property_disconnected", "the property is disconnected")
    mappings = await load_mappings(session, prop.id)
    wanted, errors = _resolve(batch, prop, mappings, now or utcnow())
    if errors:
        raise invalid("the batch was rejected; nothing was stored", errors)
    await lock_ari_state(session, prop.id)
    change_id = uuid.uuid4().hex
    rows = _merge(await _existing(session, prop.id, wanted), wanted, prop.id, change_id)
    change = AriChange(
        id=change_id, property_id=prop.id, items=len(batch.items), cells_changed=len(rows)
    )
    session.add(change)
    await session.flush()
    await upsert_cells(session, rows)
    return prop, change


def _resolve(
    batch: AriBatch, prop: Property, mappings: Mappings, now: datetime
) -> tuple[dict[CellKey, Fields], list[FieldError]]:
    """Cells and fields each item sets (later items win, as in Channex), or the errors."""
    first, last = horizon(prop, now)
    wanted: dict[CellKey, Fields] = {}
    errors: list[FieldError] = []
    for index, item in enumerate(batch.items):
        loc = f"body.items.{index}"
        item_errors = _date_errors(item, loc, first, last)
        target = _target(item, loc, prop, mappings, item_errors)
        errors.extend(item_errors)
        if item_errors or target is None:
            continue
        kind, entity_pk, fields = target
        for day in _dates(item):
            wanted.setdefault((kind, entity_pk, day), {}).update(fields)
    return wanted, errors


def _date_errors(
    item: AvailabilityItem | RestrictionsItem, loc: str, first: date, last: date
) -> list[FieldError]:
    errors = []
    if item.date_from < first:
        errors.append(FieldError(f"{loc}.date_from", f"before today ({first}) for Channex", "past"))
    if item.date_to > last:
        errors.append(
            FieldError(f"{loc}.date_to", f"after the horizon's last day ({last})", "beyond_horizon")
        )
    return errors


def _target(
    item: AvailabilityItem | RestrictionsItem,
    loc: str,
    prop: Property,
    mappings: Mappings,
    errors: list[FieldError],
) -> tuple[str, int, Fields] | None:
    """(kind, entity pk, stored fields) of an item, or None with its errors appended."""
    room_type = mappings.room_type_by_pms(item.room_type_id)
    if room_type is None or room_type.channex_room_type_id is None:
        what = "not mapped" if room_type is None else "not synced to Channex yet"
        errors.append(FieldError(f"{loc}.room_type_id", f"room type {what}", "unmapped"))
        return None
    if isinstance(item, AvailabilityItem):
        return "availability", room_type.id, {"availability": item.availability}
    rate_plan = mappings.rate_plan_by_pms(room_type.id, item.rate_plan_id)
    if rate_plan is None or rate_plan.channex_rate_plan_id is None:
        what = "not mapped" if rate_plan is None else "not synced to Channex yet"
        errors.append(FieldError(f"{loc}.rate_plan_id", f"rate plan {what}", "unmapped"))
        return None
    fields = _restriction_fields(item, rate_plan, prop.currency, loc, errors)
    return None if fields is None else ("restrictions", rate_plan.id, fields)


def _restriction_fields(
    item: RestrictionsItem, rate_plan: RatePlan, currency: str, loc: str, errors: list[FieldError]
) -> Fields | None:
    """Stored form: rates as decimal strings in the plan's currency (§6.3), `rates` as pairs."""
    fields = item.fields_set()
    currency = rate_plan.currency or currency
    per_person = rate_plan.sell_mode == "per_person"
    if "rate" in fields:
        if per_person:
            errors.append(FieldError(f"{loc}.rate", "per-person plan: send `rates`", "sell_mode"))
            return None
        fields["rate"] = to_decimal_string(fields["rate"], currency)
    if "rates" in fields:
        occupancies = sorted(int(o["occupancy"]) for o in rate_plan.options)
        given = sorted(r.occupancy for r in item.rates or [])
        if not per_person or given != occupancies:
            message = f"give one rate for each occupancy {occupancies} of a per-person plan"
            errors.append(FieldError(f"{loc}.rates", message, "occupancies"))
            return None
        fields["rates"] = sorted(
            [r.occupancy, to_decimal_string(r.rate, currency)] for r in item.rates or []
        )
    return fields


def _dates(item: AvailabilityItem | RestrictionsItem) -> Iterator[date]:
    days = set(item.days) if item.days else None
    for offset in range((item.date_to - item.date_from).days + 1):
        day = item.date_from + timedelta(days=offset)
        if days is None or WEEKDAYS[day.weekday()] in days:
            yield day


async def _existing(
    session: AsyncSession, property_pk: int, wanted: dict[CellKey, Fields]
) -> dict[CellKey, AriCell]:
    """The stored cells among `wanted`, read entity by entity over the dates touched."""
    found: dict[CellKey, AriCell] = {}
    entities = {(kind, entity) for kind, entity, _ in wanted}
    for kind, entity in sorted(entities):
        days = [day for k, e, day in wanted if (k, e) == (kind, entity)]
        stmt = select(AriCell).where(
            AriCell.property_id == property_pk,
            AriCell.kind == kind,
            AriCell.entity_id == entity,
            AriCell.stay_date.between(min(days), max(days)),
        )
        for cell in (await session.execute(stmt)).scalars():
            found[(cell.kind, cell.entity_id, cell.stay_date)] = cell
    return found


# The one availability field of a cell (channex-api.md §6.2).
AVAILABILITY_FIELD = "availability"


def differs(desired: Fields, pushed: Fields) -> bool:
    """True when some desired field is not what Channex last accepted."""
    return any(pushed.get(name) != value for name, value in desired.items())


def _merge(
    existing: dict[CellKey, AriCell],
    wanted: dict[CellKey, Fields],
    property_pk: int,
    change_id: str,
) -> list[dict[str, Any]]:
    """Rows to upsert: only cells whose desired value actually changes get a new version, and
    become the change's (an earlier change's value there is superseded)."""
    rows: list[dict[str, Any]] = []
    now = utcnow()
    for (kind, entity, day), fields in wanted.items():
        cell = existing.get((kind, entity, day))
        before: Fields = dict(cell.desired) if cell else {}
        desired = {**before, **fields}
        # The PMS's next availability for a held cell releases it, even if equal to the old.
        releases = cell is not None and cell.held_at is not None and AVAILABILITY_FIELD in fields
        if cell is not None and desired == before and not releases:
            continue
        pushed: Fields = dict(cell.pushed) if cell else {}
        rows.append(
            {
                "property_id": property_pk, "kind": kind, "entity_id": entity, "stay_date": day,
                "desired": desired, "pushed": pushed, "version": (cell.version + 1) if cell else 1,
                "dirty": differs(desired, pushed), "failure": None, "held_at": None,
                "change_id": change_id, "updated_at": now,
            }
        )  # fmt: skip
    return rows


async def upsert_cells(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT ... ON CONFLICT DO UPDATE, executed many: the statement is compiled once and
    cached; multi-row VALUES would be compiled anew for every chunk (seconds for 15,000 cells)."""
    if not rows:
        return
    stmt = dialect_insert(session)(AriCell)
    updated = (
        "desired", "pushed", "version", "dirty", "failure", "held_at", "change_id", "updated_at"
    )  # fmt: skip
    stmt = stmt.on_conflict_do_update(
        index_elements=["property_id", "kind", "entity_id", "stay_date"],
        set_={name: stmt.excluded[name] for name in updated},
    )
    connection = await session.connection()
    await connection.execute(stmt, list(rows))


async def read_cells(
    session: AsyncSession,
    property_pk: int,
    date_from: date,
    date_to: date,
    keys: Iterable[tuple[str, int]] | None = None,
) -> Sequence[AriCell]:
    """Cells of the property on those dates, ordered (optionally only some entities)."""
    stmt = select(AriCell).where(
        AriCell.property_id == property_pk, AriCell.stay_date.between(date_from, date_to)
    )
    if keys is not None:
        stmt = stmt.where(tuple_(AriCell.kind, AriCell.entity_id).in_(list(keys)))
    order = (AriCell.kind, AriCell.entity_id, AriCell.stay_date)
    return (await session.execute(stmt.order_by(*order))).scalars().all()


def cell_status(cell: AriCell) -> str:
    return status_of(cell.desired, cell.pushed, cell.failure, cell.held_at)


def status_of(
    desired: Fields, pushed: Fields, failure: str | None, held_at: datetime | None
) -> str:
    """in_sync: Channex has every desired field; failed: Channex rejected it; held: waits for
    the PMS's next availability after a booking; else pending."""
    if held_at is not None:
        return "held"
    if not differs(desired, pushed):
        return "in_sync"
    return "failed" if failure is not None else "pending"


async def read_state(
    session: AsyncSession,
    principal: Principal,
    pms_property_id: str,
    date_from: date,
    date_to: date,
) -> tuple[Mappings, Sequence[AriCell]]:
    """The desired state on those dates and the mappings that name its entities."""
    if date_to < date_from or (date_to - date_from).days > 731:
        raise invalid(
            "bad date range", [FieldError("query.to", "from ≤ to, at most 732 days", "range")]
        )
    prop, _ = await get_property(session, principal, pms_property_id)
    mappings = await load_mappings(session, prop.id)
    cells = await read_cells(session, prop.id, date_from, date_to)
    return mappings, [c for c in cells if mappings.knows(c.kind, c.entity_id)]
