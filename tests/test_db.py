"""SQLite's locking under the engine the service builds (app.db.create_engine).

WAL lets one writer run beside readers. A transaction that has read, and so holds a snapshot,
cannot become a writer once another connection has committed since: SQLite answers
SQLITE_BUSY_SNAPSHOT ("database is locked") at once, without waiting out busy_timeout, since
waiting could never help. The service's sessions read first and write later (a route looks
up the property, then writes), so they must not hold a snapshot across their reads: the
sqlite3 driver's transaction control opens a transaction at the first write, not the first
read. These tests hold that, and show the failure it avoids.

The "database is locked" a busy embedded service did meet is another one: plain SQLITE_BUSY
after the whole busy_timeout, a writer starved by others that kept taking the lock first. The
write gate (app/write_gate.py) serves the process's writers in arrival order; the tests below
the first three hold its order and that it is always left.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.db import create_engine, create_session_factory
from app.write_gate import install_write_gate


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
        return int(
            (await conn.execute(text("SELECT value FROM counter WHERE id = 1"))).scalar_one()
        )


async def _add(sessions: async_sessionmaker[AsyncSession], amount: int) -> None:
    """A write of its own, as another request's: the gate lets a task pass itself."""
    async with sessions() as session:
        await session.execute(
            text("UPDATE counter SET value = value + :n WHERE id = 1"), {"n": amount}
        )
        await session.commit()


async def _add_beside_the_last_connection(engine: AsyncEngine, amount: int) -> None:
    """A write by another task on another connection than the pool's last one: a gate its
    writer never left would hold this one for the gate's whole patience (60 s)."""
    async with engine.connect() as last:  # the connection just returned to the pool
        await last.execute(text("SELECT 1"))
        async with asyncio.timeout(5):
            await asyncio.create_task(_add(create_session_factory(engine), amount))


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
    assert time.monotonic() - started < 5  # busy_timeout (15 s) is not waited out
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


async def test_a_waiting_writer_goes_before_writers_that_came_after_it(
    engine: AsyncEngine,
) -> None:
    """SQLite's busy_timeout is no queue: a waiter sleeps between tries, and a relay of fresh
    writers, each asking as the previous one commits, would keep the lock from it until it
    fails. The write gate serves writers in arrival order."""
    sessions = create_session_factory(engine)
    finished: list[str] = []

    async def write(name: str, hold: float = 0.0) -> None:
        async with sessions() as session:
            await session.execute(text("UPDATE counter SET value = value + 1"))
            await asyncio.sleep(hold)
            await session.commit()
        finished.append(name)

    async def relay() -> None:
        for n in range(8):
            await write(f"relay-{n}", hold=0.05)

    async with sessions() as first:
        await first.execute(text("UPDATE counter SET value = value + 1"))  # the lock
        waiter = asyncio.create_task(write("waiter"))
        await asyncio.sleep(0.3)  # the waiter is waiting for the lock
        relayed = asyncio.create_task(relay())
        await asyncio.sleep(0.05)
        await first.commit()
    await asyncio.gather(waiter, relayed)
    assert finished.index("waiter") == 0, finished
    assert await _value(engine) == 10


async def test_readers_pass_while_a_writer_holds_the_lock(engine: AsyncEngine) -> None:
    sessions = create_session_factory(engine)
    async with sessions() as writer, sessions() as reader:
        await writer.execute(text("UPDATE counter SET value = value + 1"))
        async with asyncio.timeout(5):  # a gated read would wait for the commit below
            value = (await reader.execute(text("SELECT value FROM counter"))).scalar_one()
        assert value == 0  # WAL: the reader sees the last commit
        await writer.commit()


@pytest.mark.parametrize("end", ["rollback", "close", "error"])
async def test_a_transaction_that_ends_without_commit_lets_the_next_writer_in(
    engine: AsyncEngine, end: str
) -> None:
    sessions = create_session_factory(engine)
    first = sessions()
    await first.execute(text("UPDATE counter SET value = value + 1"))
    if end == "rollback":
        await first.rollback()
    elif end == "close":
        await first.close()
    else:
        with pytest.raises(OperationalError):
            await first.execute(text("UPDATE no_such_table SET value = 1"))
        await first.close()
    await _add_beside_the_last_connection(engine, 10)
    await first.close()
    assert await _value(engine) == 10


async def test_autocommitted_writes_leave_the_gate(engine: AsyncEngine) -> None:
    """As the webhook intake writes: one INSERT outside a transaction, then the next writer."""
    for n in range(2):
        async with engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.execute(text("INSERT INTO counter VALUES (:id, 0)"), {"id": 10 + n})
    await _add_beside_the_last_connection(engine, 10)
    assert await _value(engine) == 10


async def test_a_task_writing_on_two_sessions_fails_instead_of_hanging(
    engine: AsyncEngine,
) -> None:
    """The gate never makes a task wait for itself: SQLite's lock decides, as without it (a
    short busy_timeout here, to fail fast)."""
    sessions = create_session_factory(engine)
    async with sessions() as outer, sessions() as inner:
        await outer.execute(text("UPDATE counter SET value = value + 1"))
        await inner.execute(text("PRAGMA busy_timeout=100"))
        started = time.monotonic()
        with pytest.raises(OperationalError, match="database is locked"):
            await inner.execute(text("UPDATE counter SET value = value + 10"))
        assert time.monotonic() - started < 5
        await inner.rollback()
        await outer.commit()
    assert await _value(engine) == 1


async def test_a_writer_asks_sqlite_itself_once_the_gate_kept_it_too_long(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A holder that never leaves (a leaked connection) must not stall the process's writes
    for good: past its patience a writer waits for SQLite's lock as without the gate."""
    # The driver's own busy timeout (5 s) is SQLite's wait here.
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'patience.db'}")
    install_write_gate(engine, patience=0.2)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER)"))
        await conn.execute(text("INSERT INTO counter VALUES (1, 0)"))
    sessions = create_session_factory(engine)
    try:
        async with sessions() as holder:
            await holder.execute(text("UPDATE counter SET value = value + 1"))
            writer = asyncio.create_task(_add(sessions, 10))
            await asyncio.sleep(0.6)  # past the patience: the writer is at SQLite's lock
            await holder.commit()
        await writer
        assert "waited too long" in caplog.text
        assert await _value(engine) == 11
    finally:
        await engine.dispose()
