"""SQLite's locking under the engine the service builds (app.db.create_engine).

WAL lets one writer run beside readers. A transaction that has read, and so holds a snapshot,
cannot become a writer once another connection has committed since: SQLite answers
SQLITE_BUSY_SNAPSHOT ("database is locked") at once, without waiting out busy_timeout, since
waiting could never help. The service's sessions read first and write later (a route looks
up the property, then writes), so they must not hold a snapshot across their reads: the
sqlite3 driver's transaction control opens a transaction at the first write, not the first
read. These tests hold that, and show the failure it avoids.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import create_engine, create_session_factory


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'locking.db'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER)"))
        await conn.execute(text("INSERT INTO counter VALUES (1, 0)"))
    yield engine
    await engine.dispose()


async def _value(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT value FROM counter"))).scalar_one())


async def test_a_write_after_a_read_in_an_explicit_transaction_fails_at_once(
    engine: AsyncEngine,
) -> None:
    """The failure mode: a transaction begun before its read (BEGIN, as PEP 249 and Python
    3.16's sqlite3 default would have it) cannot write after another connection's commit."""
    async with engine.connect() as a, engine.connect() as b:
        await a.exec_driver_sql("BEGIN")
        await a.execute(text("SELECT value FROM counter"))
        await b.execute(text("UPDATE counter SET value = value + 1"))
        await b.commit()
        started = time.monotonic()
        with pytest.raises(OperationalError, match="database is locked") as raised:
            await a.execute(text("UPDATE counter SET value = value + 10"))
        await a.rollback()
    assert raised.value.orig.sqlite_errorname == "SQLITE_BUSY_SNAPSHOT"  # type: ignore[union-attr]
    assert time.monotonic() - started < 1  # busy_timeout (15 s) is not waited out
    assert await _value(engine) == 1


async def test_a_session_that_reads_then_writes_survives_a_commit_in_between(
    engine: AsyncEngine,
) -> None:
    """A request's shape: A reads, B writes and commits, A writes and commits. Both count."""
    sessions = create_session_factory(engine)
    async with sessions() as a, sessions() as b:
        assert (await a.execute(text("SELECT value FROM counter"))).scalar_one() == 0
        await b.execute(text("UPDATE counter SET value = value + 1"))
        await b.commit()
        await a.execute(text("UPDATE counter SET value = value + 10"))
        await a.commit()
    assert await _value(engine) == 11


async def test_a_session_that_reads_then_writes_waits_for_an_open_writer(
    engine: AsyncEngine,
) -> None:
    """While B holds the write lock, A's write after its read waits (busy_timeout) and goes
    on once B commits, instead of failing."""
    sessions = create_session_factory(engine)
    async with sessions() as a, sessions() as b:
        await a.execute(text("SELECT value FROM counter"))
        await b.execute(text("UPDATE counter SET value = value + 1"))  # B's write lock
        a_writes = asyncio.create_task(a.execute(text("UPDATE counter SET value = value + 10")))
        await asyncio.sleep(0.3)
        assert not a_writes.done()  # waiting for B's lock
        await b.commit()
        await a_writes
        await a.commit()
    assert await _value(engine) == 11
