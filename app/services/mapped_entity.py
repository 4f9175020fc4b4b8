"""The one onboarding flow of every entity the PMS maps to a Channex twin (organization →
group, property, room type, rate plan): insert-ignore, find, lock, diff, adopt, sync.

Each entity configures it once (`MappedEntity`); each PUT arrives as a `Put`, resolved and
checked by the entity's service before anything is written. The route runs `put_mapped`
and, when Channex is briefly out of reach, `record_put_failure`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Generic, NamedTuple, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.channex.client import ChannexClient
from app.errors import AppError, conflict
from app.models import Organization, Property, RatePlan, RoomType, SyncStatus
from app.services.remote import Remote, reach_remote
from app.services.rows import Titled, ensure_unmapped, insert_ignore, lock_row
from app.services.sync_state import mark_pending, mark_synced, record_failure
from app.settings import Settings

Onboarded = Organization | Property | RoomType | RatePlan
R = TypeVar("R", bound=Onboarded)
# What a twin needs of its parents' twins: the group id, the property id... (None for a group).
T = TypeVar("T")


class ChannexCalls(NamedTuple):
    """The Channex calls that reach one row's twin (see `app.services.remote.Remote`)."""

    update: Callable[[str], Awaitable[object]]
    create: Callable[[], Awaitable[str]]
    candidates: Callable[[], Awaitable[Iterable[Titled]]]  # its scope, to look for a twin


@dataclass(frozen=True)
class MappedEntity(Generic[R, T]):
    """How one kind of row maps to its Channex twin."""

    model: type[R]
    kind: str  # Channex's name for it ("group", "room_type"): messages, `body.channex_<kind>_id`
    column: InstrumentedAttribute[str | None]  # where the row keeps its twin's id
    # Copy the PMS's values onto the row; True when the twin must hear of a change.
    apply: Callable[[R, dict[str, object]], bool]
    # The calls for this row (its parents' twins, and whether the PMS named the twin).
    channex: Callable[[ChannexClient, R, T, bool], ChannexCalls]


@dataclass(frozen=True)
class Quota:
    """At most `limit` rows matching `scope` (an organization's properties, a property's room
    types...): one Channex account's entity limits and request budget belong to every tenant."""

    scope: dict[str, object]
    limit: int
    what: str  # "properties per organization": for the message


@dataclass(frozen=True)
class Quotas:
    """The deployment's limits per organization (QUOTA_* settings)."""

    properties_per_organization: int
    room_types_per_property: int
    rate_plans_per_room_type: int

    @classmethod
    def of(cls, settings: Settings) -> Quotas:
        return cls(
            settings.quota_properties_per_organization,
            settings.quota_room_types_per_property,
            settings.quota_rate_plans_per_room_type,
        )


@dataclass(frozen=True)
class Put(Generic[R, T]):
    """One PUT, its parents found and its values checked, before anything is written."""

    entity: MappedEntity[R, T]
    key: dict[str, object]  # the natural key: finds the row; a failure is recorded on it
    values: dict[str, object]  # what the PMS says: compared with the row, copied, recorded
    adopt: str | None  # a Channex id the PMS asks us to map instead of creating a twin
    target: Callable[[], T]  # the parents' twins; raises 409 while one is not in Channex
    parents: dict[str, object] = field(default_factory=dict)  # more foreign keys of a new row
    quota: Quota | None = None  # how many such rows the scope may hold; a new row past it: 409


def copy_values(row: Onboarded, values: dict[str, object]) -> bool:
    """Copy the PMS's values onto the row; True when any of them differed."""
    changed = any(getattr(row, name) != value for name, value in values.items())
    for name, value in values.items():
        setattr(row, name, value)
    return changed


async def put_mapped(session: AsyncSession, channex: ChannexClient | None, put: Put[R, T]) -> R:
    """Store what the PMS says and make the twin say it too; never a second twin. Without a
    Channex client the row waits, `pending`, for the sweep."""
    entity = put.entity
    row = await _find(session, put)
    if row is None:
        if put.quota is not None:
            await check_quota(session, entity.model, put.quota)
        await insert_ignore(session, entity.model, {**put.parents, **put.key, **put.values})
        row = await _find(session, put)
        assert row is not None  # inserted above or by a concurrent twin
    row = await lock_row(session, row)
    changed = entity.apply(row, put.values)
    if put.adopt and put.adopt != getattr(row, entity.column.key):
        if channex is None:
            # The twin's owner is checked in Channex before it is adopted; a sync later
            # would not check it again.
            raise conflict("adoption_needs_channex", "Channex sync is off: nothing can be adopted")
        await ensure_unmapped(session, entity.column, put.adopt)
        setattr(row, entity.column.key, put.adopt)
        changed = True
    if channex is None:
        mark_pending(row)
    elif changed or row.sync_status != SyncStatus.SYNCED:
        adopting = put.adopt is not None
        await sync_mapped(session, channex, entity, row, put.target(), adopting=adopting)
    await session.flush()
    return row


async def _find(session: AsyncSession, put: Put[R, T]) -> R | None:
    found = await session.execute(select(put.entity.model).filter_by(**put.key))
    return found.scalar_one_or_none()


async def check_quota(session: AsyncSession, model: type[R], quota: Quota) -> None:
    """Before a new row is written or sent: past its scope's quota it is refused (409
    `quota_exceeded`). Only new rows are checked: one that exists always gets its update."""
    stmt = select(func.count()).select_from(model).filter_by(**quota.scope)
    if (await session.execute(stmt)).scalar_one() >= quota.limit:
        raise AppError(
            409, "quota_exceeded", "Quota exceeded",
            f"at most {quota.limit} {quota.what} (a setting of this deployment)",
        )  # fmt: skip


async def sync_mapped(
    session: AsyncSession,
    channex: ChannexClient,
    entity: MappedEntity[R, T],
    row: R,
    target: T,
    *,
    adopting: bool,
) -> None:
    """Make the twin say what the row says, creating it only if no twin exists."""
    calls = entity.channex(channex, row, target, adopting)
    remote = Remote(entity.kind, entity.column, calls.update, calls.create, calls.candidates)
    known = getattr(row, entity.column.key)
    channex_id = await reach_remote(session, remote, known, row.title, adopting=adopting)
    setattr(row, entity.column.key, channex_id)
    mark_synced(row)


async def record_put_failure(session: AsyncSession, put: Put[R, T], error: str) -> None:
    """After the rolled-back PUT: keep its values on an existing row, say why it failed."""
    await record_failure(session, put.entity.model, put.key, put.values, error)
