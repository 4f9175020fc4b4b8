"""One SQLite writer at a time per process, in arrival order.

SQLite has one write lock per database file. A connection that finds it taken sleeps and tries
again (busy_timeout), up to 100 ms between tries, and whichever waiter tries first after the
lock is freed wins it: under a steady line of writers, the embedded default's requests and
in-process jobs on one event loop, an unlucky one loses every race until busy_timeout runs out
and its request answers 500 "database is locked" (SQLITE_BUSY after 15 s, 3 of 500 POST /ari in
benchmarks/tenant_fairness_e2e.py --a-changes, while other writes of the same run waited 13 s).
The gate queues the process's writers on an asyncio lock, first come first served, before they
ask SQLite for its lock, so that SQLite sees one of them at a time and none starves; readers are
never gated (WAL lets them run beside the writer), and another process still meets
busy_timeout.

A transaction passes the gate at its first write (INSERT, UPDATE, DELETE or REPLACE: where the
sqlite3 driver begins the transaction) and leaves it at its commit or rollback, or when its
connection goes back to the pool, whatever the path.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.util import await_only

log = logging.getLogger(__name__)

_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
# In the connection's info: the _LoopGate its transaction holds, or None when it writes
# without holding one (see WriteGate._enter).
_HELD = "write_gate"


def _writes(statement: str) -> bool:
    return statement.lstrip()[:7].upper().startswith(_WRITES)


@dataclass
class _LoopGate:
    """The gate of one event loop: an asyncio lock serves only the loop it was used on."""

    loop: asyncio.AbstractEventLoop
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    owner: asyncio.Task[Any] | None = None

    def release(self) -> None:
        self.owner = None
        self.lock.release()


class WriteGate:
    """Writers of one engine, one at a time per event loop, first come first served."""

    def __init__(self, *, patience: float) -> None:
        self._patience = patience
        self._gates: WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopGate] = WeakKeyDictionary()

    def install(self, engine: AsyncEngine) -> None:
        sync_engine = engine.sync_engine
        event.listen(sync_engine, "before_cursor_execute", self._before_execute)
        event.listen(sync_engine, "commit", self._on_end)
        event.listen(sync_engine, "rollback", self._on_end)
        for pool_event in ("checkin", "invalidate", "soft_invalidate", "close", "detach"):
            event.listen(sync_engine, pool_event, self._on_pool_event)

    def _before_execute(self, conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        if _HELD not in conn.info and _writes(statement):
            # Inside the greenlet that runs this statement for the asyncio extension: awaiting
            # here suspends the caller's task, as the driver's own calls do.
            conn.info[_HELD] = await_only(self._enter())

    async def _enter(self) -> _LoopGate | None:
        loop = asyncio.get_running_loop()
        gate = self._gates.get(loop)
        if gate is None:
            gate = self._gates[loop] = _LoopGate(loop)
        task = asyncio.current_task()
        if gate.owner is task:
            # This task already writes on another connection: queueing behind itself would
            # never end. SQLite's lock decides, as without the gate (busy_timeout, then error).
            return None
        try:
            async with asyncio.timeout(self._patience):
                await gate.lock.acquire()
        except TimeoutError:
            # A holder that never left (a leaked connection): do not hang the process's writes
            # on it; SQLite's own lock decides.
            log.warning("sqlite write gate: waited too long", extra={"seconds": self._patience})
            return None
        gate.owner = task
        return gate

    def _on_end(self, conn: Connection) -> None:
        # An invalidated connection has no info to read (the pool's invalidate event has
        # already let its writer out).
        if not conn.invalidated and not conn.closed:
            self._leave(conn.info)

    def _on_pool_event(
        self, _dbapi_conn: DBAPIConnection | None, record: ConnectionPoolEntry, *_: Any
    ) -> None:
        self._leave(record.info)

    @staticmethod
    def _leave(info: dict[Any, Any]) -> None:
        gate = info.pop(_HELD, None)
        if gate is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is gate.loop:
            gate.release()
        elif not gate.loop.is_closed():
            # Returned from another thread (a connection collected as garbage): the lock
            # belongs to its loop's thread.
            gate.loop.call_soon_threadsafe(gate.release)


def install_write_gate(engine: AsyncEngine, *, patience: float) -> None:
    """Queue the engine's writers in this process (SQLite: see the module's docstring)."""
    WriteGate(patience=patience).install(engine)
