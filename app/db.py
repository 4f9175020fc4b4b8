"""Database engine, session factory and the declarative base."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson
from sqlalchemy import DateTime, Dialect, MetaData, event, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

from app.write_gate import install_write_gate

# Stable constraint names so that Alembic migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


# PostgreSQL's deadlock_detected and serialization_failure (asyncpg's reach SQLAlchemy as a
# plain DBAPIError): the database gave up on a lock, not the data at fault.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})


def lock_given_up(exc: BaseException) -> bool:
    """A deadlock or serialization failure: the same transaction may well pass again."""
    return (
        isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in RETRYABLE_SQLSTATES
    )


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every engine: SQLite keeps no offset, so values
    are normalized to UTC on the way in and marked UTC on the way out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=UTC)


def _sqlite_pragmas(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    # WAL lets readers run beside the one writer; busy_timeout makes a second writer wait
    # instead of failing at once; foreign keys are off by default in SQLite.
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


# The largest value of an Integer column (ids, positions) on both databases: a larger one in
# a path or query is a 422, never a query PostgreSQL refuses with a 500.
MAX_INT = 2**31 - 1

# How long a writer queues in this process's write gate (app/write_gate.py) before it asks
# SQLite for the lock regardless: far above the waits of a fair line (under
# benchmarks/tenant_fairness_e2e.py --a-changes, 2.6 s at most; write transactions hold the
# lock about 20 ms at the median), so only a holder that never left reaches it.
SQLITE_WRITE_GATE_SECONDS = 60.0

# Replace connections this old, before a proxy or firewall idle timeout silently cuts them.
POOL_RECYCLE_SECONDS = 1800


def create_engine(
    database_url: str, *, echo: bool = False, pool_size: int = 5, max_overflow: int = 10
) -> AsyncEngine:
    """The one engine of a process; SQLite gets the pragmas it needs for concurrent use."""
    url = make_url(database_url)
    in_memory = url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")
    # An in-memory SQLite database lives in one connection: its pool takes no sizes.
    sizes = {} if in_memory else {"pool_size": pool_size, "max_overflow": max_overflow}
    engine = create_async_engine(
        url,
        echo=echo,
        # A connection killed by a database restart is found and replaced at checkout, never
        # handed to a request or a job. The webhook intake, whose whole transaction is one
        # INSERT, does not pay for it: on PostgreSQL it has a pool of its own (below).
        pool_pre_ping=True,
        pool_recycle=POOL_RECYCLE_SECONDS,
        json_serializer=json_dumps,
        json_deserializer=json_loads,
        **sizes,
    )
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        if not in_memory:  # one connection: no line of writers to keep in order
            install_write_gate(engine, patience=SQLITE_WRITE_GATE_SECONDS)
    return engine


def json_dumps(value: Any) -> str:
    """JSON columns' text, by orjson (a full ARI sync writes and reads tens of thousands of
    small documents). What orjson refuses, integers beyond 64 bits, goes through the stdlib."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(value)


def json_loads(text: str | bytes) -> Any:
    """JSON columns' values, by orjson; the stdlib reads what orjson cannot (NaN, written by
    the stdlib before). orjson reads integers beyond 64 bits as floats: no document here has
    them (Channex sends amounts as strings)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


async def open_driver_pool(engine: AsyncEngine, max_size: int) -> asyncpg.Pool | None:
    """A plain asyncpg pool on the engine's PostgreSQL database (None on SQLite), connecting
    on demand with the engine's own connect arguments.

    For the webhook intake only: its whole transaction is one INSERT, and checking a
    connection out of SQLAlchemy's pool costs about 30 µs of CPU more than out of asyncpg's,
    a tenth of the request (benchmarks/webhook_intake.py).
    """
    if engine.dialect.driver != "asyncpg":
        return None
    _, params = engine.dialect.create_connect_args(engine.url)
    for adapter_only in ("prepared_statement_cache_size", "prepared_statement_name_func"):
        params.pop(adapter_only, None)  # SQLAlchemy's adapter takes these, not asyncpg
    pool: asyncpg.Pool = await asyncpg.create_pool(min_size=0, max_size=max_size, **params)
    return pool


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
