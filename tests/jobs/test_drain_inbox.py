"""drain_inbox: a job for every block of pending events, and no enqueue for a block whose job
waits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.channex.client import ChannexClient
from app.db import utcnow
from app.jobs import requests
from app.jobs.bookings import drain_inbox
from app.models import WebhookEvent
from app.settings import Settings
from tests.factories import make_ctx


@dataclass
class CountingQueue:
    """Remembers every enqueue; an id stays taken (its job waits) for the whole test."""

    waiting: set[str]
    enqueued: list[str | None] = field(default_factory=list)
    local: bool = False

    async def start(self, ctx: Any) -> None:
        """Nothing runs here."""

    async def enqueue(
        self, job_name: str, *args: str | int, job_id: str | None = None, defer: float | None = None
    ) -> bool:
        self.enqueued.append(job_id)
        if job_id is None or job_id in self.waiting:
            return False
        self.waiting.add(job_id)
        return True

    async def queued(self, job_ids: Sequence[str]) -> set[str]:
        return {job_id for job_id in job_ids if job_id in self.waiting}

    async def close(self) -> None:
        """Nothing to release."""


async def test_drain_enqueues_each_block_of_pending_events_not_already_waiting(
    session_factory: async_sessionmaker[AsyncSession], channex: ChannexClient
) -> None:
    size = requests.WEBHOOK_BLOCK_SIZE
    # Blocks 0 and 1 have pending events, block 2 only a processed one.
    spread = {1: "pending", 2: "pending", size + 1: "pending", 2 * size + 1: "done"}
    async with session_factory() as session:
        session.add_all(
            WebhookEvent(
                id=event_id,
                dedup_key=f"e{event_id}",
                event="booking",
                body="{}",
                status=status,
                received_at=utcnow(),
            )
            for event_id, status in spread.items()
        )
        await session.commit()
    queue = CountingQueue(waiting={str(requests.webhook_block(0).job_id)})
    ctx = make_ctx(Settings(), session_factory, channex, queue)

    await drain_inbox(ctx)
    first = list(queue.enqueued)
    await drain_inbox(ctx)  # every pending block's job waits now: nothing to ask for

    assert first == [requests.webhook_block(1).job_id]
    assert queue.enqueued == first
