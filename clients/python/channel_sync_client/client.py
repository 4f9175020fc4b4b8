"""The client: every operation of the channel-sync API as one typed async method, named by
its operationId."""

from __future__ import annotations

from typing import Any

from channel_sync_client import models as m
from channel_sync_client.ari import AriOperations
from channel_sync_client.bookings import BookingOperations
from channel_sync_client.onboarding import OnboardingOperations


class ChannelSyncClient(OnboardingOperations, AriOperations, BookingOperations):
    """`ChannelSyncClient(base_url, api_key)`, used as `async with`; every method raises a
    `ChannelSyncError` subclass for an error answer, and httpx's errors for a failed
    connection."""

    async def live(self) -> dict[str, Any]:
        """The process is up and serving."""
        return await self._call(dict[str, Any], "GET", "/health/live")

    async def ready(self) -> m.Readiness:
        """Database, Redis and Channex configuration checks (`ready` is false on a 503), with
        warnings and the backlog, which never make it false."""
        return await self._call(m.Readiness, "GET", "/health/ready", also_ok=(503,))
