"""The intake's InboxWaker: a burst of stored webhooks costs Redis one drain job, not one
enqueue per event, and an event stored after a drain was asked for gets a drain of its own."""

from __future__ import annotations

import asyncio

from arq.connections import ArqRedis

from app.jobs import bookings, requests
from app.jobs.inbox_waker import WAKE_INTERVAL_SECONDS, InboxWaker
from app.jobs.namespace import RedisNames
from app.jobs.queue import ArqQueue, load_json
from app.jobs.spec import JobSpec, index_specs


async def queued_job_names(pool: ArqRedis, queue_name: str) -> list[str]:
    names = []
    for job_id in await pool.zrange(queue_name, 0, -1):
        names.append(str(load_json(await pool.get(f"arq:job:{job_id.decode()}"))["f"]))
    return names


async def test_a_burst_asks_for_one_drain_and_a_later_event_for_another(
    arq_pool: ArqRedis, queue_name: str, names: RedisNames
) -> None:
    registry = index_specs(
        JobSpec(
            requests.DRAIN_INBOX, bookings.drain_inbox, queue_name, timeout_seconds=30, max_tries=1
        ),
        JobSpec(
            requests.PROCESS_WEBHOOK_EVENT,
            bookings.process_webhook_event,
            queue_name,
            timeout_seconds=30,
            max_tries=1,
        ),
    )
    waker = InboxWaker(ArqQueue(arq_pool, registry, names))
    try:
        for event_id in range(50):
            await waker.notify(event_id)
        await asyncio.sleep(WAKE_INTERVAL_SECONDS * 3)
        after_burst = await queued_job_names(arq_pool, names.queue(queue_name))
        await waker.notify(50)
        await asyncio.sleep(WAKE_INTERVAL_SECONDS * 3)
        after_one_more = await queued_job_names(arq_pool, names.queue(queue_name))
    finally:
        await waker.aclose()

    assert after_burst == ["drain_inbox"]
    assert after_one_more == ["drain_inbox", "drain_inbox"]
