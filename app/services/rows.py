"""Small database helpers shared by the services: idempotent inserts and row locks."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol, TypeVar

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.db import Base, utcnow
from app.errors import conflict

M = TypeVar("M", bound=Base)


# PostgreSQL's and SQLite's INSERT, both with ON CONFLICT.
UpsertInsert = postgresql.Insert | sqlite.Insert


def dialect_insert(session: AsyncSession) -> Callable[[type[Base]], UpsertInsert]:
    """The session's dialect's INSERT, which has ON CONFLICT (PostgreSQL's or SQLite's)."""
    dialect = session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


async def insert_ignore(session: AsyncSession, model: type[Base], values: dict[str, Any]) -> None:
    """INSERT that does nothing when a unique key already exists (a concurrent twin won)."""
    insert = dialect_insert(session)
    await session.execute(insert(model).values(**values).on_conflict_do_nothing())


async def lock_row(session: AsyncSession, row: M) -> M:
    """Take the row's write lock for the rest of the transaction and re-read it.

    A write (not SELECT ... FOR UPDATE) so that SQLite, which ignores FOR UPDATE, also
    serializes: two concurrent onboardings of one entity run one after the other, and the
    second sees the Channex id the first stored instead of creating a duplicate.
    """
    model = type(row)
    ident = model.__mapper__.primary_key_from_instance(row)
    pk = model.__mapper__.primary_key[0]
    await session.execute(update(model).where(pk == ident[0]).values(updated_at=utcnow()))
    await session.refresh(row)
    return row


class Titled(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...


async def mapped_channex_ids(
    session: AsyncSession, column: InstrumentedAttribute[str | None]
) -> set[str]:
    """Channex ids some row of ours already maps (so they are never adopted twice)."""
    rows = await session.execute(select(column).where(column.is_not(None)))
    return {value for value in rows.scalars() if value is not None}


def find_twin(candidates: Iterable[Titled], title: str, taken: set[str]) -> str | None:
    """The id of an unmapped Channex entity with our title: one we created but failed to
    record (a crash after Channex answered). Adopting it instead of creating another keeps
    onboarding idempotent; Channex blocks accounts that exceed its entity limits."""
    for candidate in candidates:
        if candidate.title == title and candidate.id not in taken:
            return candidate.id
    return None


async def ensure_unmapped(
    session: AsyncSession, column: InstrumentedAttribute[str | None], channex_id: str
) -> None:
    """Refuse to adopt a Channex entity that another of our rows already maps (409)."""
    stmt = select(column).where(column == channex_id).limit(1)
    if (await session.execute(stmt)).first() is not None:
        raise conflict("channex_id_taken", f"Channex id {channex_id!r} is already mapped")
