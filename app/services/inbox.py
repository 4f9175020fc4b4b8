"""The webhook inbox: every Channex call is stored before it is answered, once.

The request path needs only the database (DESIGN "Webhook intake needs only the database"):
authenticate, cap the body, one autocommitted INSERT … ON CONFLICT DO NOTHING, answer.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Sequence
from datetime import timedelta
from functools import cache
from typing import Any

import asyncpg
from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.sql.dml import ReturningInsert

from app.db import utcnow
from app.domain.revisions import ClassifiedEvent, classify_webhook
from app.errors import AppError
from app.metrics import WEBHOOK_DUPLICATES, WEBHOOK_STORED
from app.models import WebhookEvent
from app.models.bookings import EventStatus
from app.settings import Settings

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Channex-Webhook-Secret"
# More than the intake pool holds (DATABASE_POOL_SIZE): a dead connection fails in microseconds.
MAX_LOST_CONNECTIONS = 32


def check_webhook_secret(settings: Settings, presented: str | None) -> None:
    """Channex signs nothing; our webhook carries a secret header we set (§8.4)."""
    expected = settings.channex_webhook_secret
    if expected is None:
        raise AppError(503, "webhook_secret_unset", "Webhook intake is not configured")
    if presented is None or not hmac.compare_digest(
        expected.get_secret_value().encode(), presented.encode()
    ):
        raise AppError(401, "unauthorized", "Unauthorized", "missing or wrong webhook secret")


async def store_event(
    engine: AsyncEngine, raw: bytes, driver_pool: asyncpg.Pool | None = None
) -> int | None:
    """Store one webhook call; the new event's id, or None for a duplicate or one not to
    process (test messages, unknown events and malformed bodies are stored and marked).

    The one INSERT runs in autocommit on a pooled connection: stored for good when it
    returns, in one round trip (a session would add BEGIN and COMMIT). This is the only
    writer that commits by itself, because the statement is the whole transaction. On
    PostgreSQL it goes through `driver_pool` (app.db.open_driver_pool) when given.
    """
    values = _row(classify_webhook(raw))
    try:
        if driver_pool is not None:
            event_id = await _insert_on_driver_pool(driver_pool, values)
        else:
            event_id = await _insert_on_engine(engine, values)
    except Exception as exc:
        # Not stored, so not 2xx: Channex retries a non-2xx delivery (§8.4); never a 500.
        log.exception("webhook not stored: %s", type(exc).__name__)
        raise AppError(
            503, "inbox_unavailable", "Webhook inbox unavailable", headers={"Retry-After": "5"}
        ) from exc
    if event_id is None:
        WEBHOOK_DUPLICATES.inc()
        return None
    WEBHOOK_STORED.labels(values["status"]).inc()
    return event_id if values["status"] == EventStatus.PENDING else None


async def _insert_on_engine(engine: AsyncEngine, values: dict[str, Any]) -> int | None:
    """SQLite, and PostgreSQL only where no intake pool is given. The engine pings each
    connection at checkout (app.db), so none killed by a database restart reaches here."""
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        stmt = _insert_event(conn.dialect.name)
        event_id: int | None = (await conn.execute(stmt, values)).scalar_one_or_none()
        return event_id


async def _insert_on_driver_pool(pool: asyncpg.Pool, values: dict[str, Any]) -> int | None:
    """The INSERT on the intake's own asyncpg pool, straight to the driver with SQL compiled
    once; outside a transaction asyncpg autocommits. This pool is not pinged (a ping would
    cost as much as the INSERT): after a database restart it may hold several dead
    connections, each failing at once here and closed (the pool opens a new one in its
    place) until a live one takes the INSERT."""
    sql, names = _asyncpg_insert()
    for _ in range(MAX_LOST_CONNECTIONS):
        async with pool.acquire() as conn:
            try:
                event_id: int | None = await conn.fetchval(sql, *(values[n] for n in names))
                return event_id
            except Exception as exc:
                if not _driver_connection_lost(conn, exc):
                    raise
    raise ConnectionError("every pooled database connection was lost")


def _driver_connection_lost(conn: asyncpg.Connection, error: Exception) -> bool:
    """Whether the asyncpg connection died (rather than the statement failing). A connection
    that dies mid-statement may already be back in the pool, whose proxy then refuses even
    `is_closed()`: that refusal means lost too."""
    if isinstance(error, asyncpg.exceptions.ConnectionDoesNotExistError | ConnectionError):
        return True
    try:
        return bool(conn.is_closed())
    except asyncpg.exceptions.InterfaceError:
        return True


COLUMNS = (
    "dedup_key",
    "event",
    "channex_property_id",
    "channex_revision_id",
    "body",
    "status",
    "note",
    "attempts",
    "received_at",
    "processed_at",
)


def _row(classified: ClassifiedEvent) -> dict[str, Any]:
    now = utcnow()
    return {
        "dedup_key": classified.dedup_key,
        "event": classified.event,
        "channex_property_id": classified.channex_property_id,
        "channex_revision_id": classified.channex_revision_id,
        "body": classified.body,
        "status": classified.status,
        "note": classified.note,
        "attempts": 0,
        "received_at": now,
        "processed_at": None if classified.status == EventStatus.PENDING else now,
    }


@cache
def _asyncpg_insert() -> tuple[str, tuple[str, ...]]:
    """The PostgreSQL INSERT as asyncpg takes it ($1, $2, …) and the order of its values."""
    stmt = postgresql.insert(WebhookEvent).values({name: bindparam(name) for name in COLUMNS})
    dialect = PGDialect_asyncpg()  # type: ignore[no-untyped-call]
    compiled = stmt.on_conflict_do_nothing().returning(WebhookEvent.id).compile(dialect=dialect)
    return str(compiled), tuple(compiled.positiontup or ())


@cache
def _insert_event(dialect: str) -> ReturningInsert[int]:
    """Built once per dialect (the values are bound per call): the intake's hot statement."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(WebhookEvent).on_conflict_do_nothing().returning(WebhookEvent.id)


async def pending_event_ids(
    session: AsyncSession, *, older_than: float = 0.0, among: range | None = None
) -> Sequence[int]:
    """Events still to process (received at least `older_than` seconds ago), with ids in
    `among` if given."""
    cutoff = utcnow() - timedelta(seconds=older_than)
    stmt = (
        select(WebhookEvent.id)
        .where(WebhookEvent.status == EventStatus.PENDING, WebhookEvent.received_at <= cutoff)
        .order_by(WebhookEvent.id)
        .limit(500)
    )
    if among is not None:
        stmt = stmt.where(WebhookEvent.id >= among.start, WebhookEvent.id < among.stop)
    return list((await session.execute(stmt)).scalars())


async def pending_event_blocks(
    session: AsyncSession, block_size: int, *, older_than: float = 0.0
) -> Sequence[int]:
    """The blocks of `block_size` consecutive ids holding events still to process (received
    at least `older_than` seconds ago), lowest first: a burst of thousands is a few dozen."""
    cutoff = utcnow() - timedelta(seconds=older_than)
    block = (WebhookEvent.id // block_size).label("block")
    stmt = (
        select(block)
        .where(WebhookEvent.status == EventStatus.PENDING, WebhookEvent.received_at <= cutoff)
        .group_by(block)
        .order_by(block)
        .limit(500)
    )
    return [int(b) for b in (await session.execute(stmt)).scalars()]


def mark_event(event: WebhookEvent, status: str, note: str | None = None) -> None:
    event.status = status
    event.note = note
    event.processed_at = utcnow()
