"""What follows a new OTA connection, however channel-sync learnt of it (webhook or a read of
the property's channels): a full ARI sync and the import of the OTA's existing bookings."""

from __future__ import annotations

from app.jobs.ari import request_push
from app.jobs.queue import JobQueue
from app.services.channel_events import ChannelChange


async def request_connection_follow_up(queue: JobQueue, change: ChannelChange) -> None:
    """After the commit that recorded the activation (which also owes the full sync)."""
    await request_push(queue, change.property_id, full=True)
    await queue.enqueue(
        "import_channel_reservations",
        change.channex_channel_id,
        job_id=f"import-reservations:{change.channex_channel_id}",
    )
