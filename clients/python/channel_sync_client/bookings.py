"""Bookings for the PMS: the pull feed and its acks, one booking, erasure, replay, the
problems that need a person, and the push endpoints."""

from __future__ import annotations

from collections.abc import AsyncIterator

from channel_sync_client import models as m
from channel_sync_client.onboarding import ORG
from channel_sync_client.pagination import iter_feed_pages
from channel_sync_client.transport import Transport

REVISION = "/v1/bookings/revisions/{revision_id}"
BOOKING = "/v1/bookings/{booking_id}"


class BookingOperations(Transport):
    async def list_booking_revisions(
        self, *, after: str | None = None, limit: int = 100, pending: bool = False
    ) -> m.RevisionFeed:
        """One page of booking revisions in the order they were applied, after a cursor."""
        params = {"after": after, "limit": limit, "pending": pending}
        return await self._call(m.RevisionFeed, "GET", "/v1/bookings/revisions", params=params)

    def iter_booking_revision_pages(
        self, *, after: str | None = None, limit: int = 100, pending: bool = False
    ) -> AsyncIterator[m.RevisionFeed]:
        """Feed pages from `after` until the last one; keep the last page's `resume_after`
        and pass it as `after` to resume from there later."""
        return iter_feed_pages(
            lambda cursor: self.list_booking_revisions(after=cursor, limit=limit, pending=pending),
            after,
        )

    async def iter_booking_revisions(
        self, *, after: str | None = None, limit: int = 100, pending: bool = False
    ) -> AsyncIterator[m.RevisionRead]:
        """Every revision from `after` on, in feed order, until the feed is drained. With
        `pending=True` and an ack per revision, no cursor needs keeping."""
        async for page in self.iter_booking_revision_pages(
            after=after, limit=limit, pending=pending
        ):
            for revision in page.items:
                yield revision

    async def ack_booking_revision(self, revision_id: str) -> m.RevisionRead:
        """Mark a pulled revision as taken by the PMS; acking twice changes nothing."""
        path = {"revision_id": revision_id}
        return await self._call(m.RevisionRead, "POST", REVISION + "/ack", path)

    async def replay_booking_revision(self, revision_id: str) -> m.Replayed:
        """Push the revision to the PMS again (same `webhook-id`, same sequence)."""
        path = {"revision_id": revision_id}
        return await self._call(m.Replayed, "POST", REVISION + "/replay", path)

    async def reapply_quarantined_revision(self, revision_id: str) -> m.RevisionRead:
        """Apply a quarantined revision again, once its cause is fixed (global keys only)."""
        path = {"revision_id": revision_id}
        template = "/v1/bookings/quarantine/{revision_id}/reapply"
        return await self._call(m.RevisionRead, "POST", template, path)

    async def get_booking(self, booking_id: str) -> m.BookingRead:
        """A booking's current state and every revision of it, oldest first."""
        return await self._call(m.BookingRead, "GET", BOOKING, {"booking_id": booking_id})

    async def erase_booking_personal_data(self, booking_id: str) -> m.BookingRead:
        """Erase the guest's personal data from the booking and all its revisions."""
        path = {"booking_id": booking_id}
        return await self._call(m.BookingRead, "DELETE", BOOKING + "/personal-data", path)

    async def list_booking_problems(self) -> m.BookingProblems:
        """Unmapped, overbooked, stale and quarantined revisions, alarms, failing endpoints."""
        return await self._call(m.BookingProblems, "GET", "/v1/bookings/problems")

    async def list_booking_endpoints(self) -> list[m.EndpointRead]:
        """PMS endpoints with their health (failing and disabled ones first)."""
        return await self._call(list[m.EndpointRead], "GET", "/v1/bookings/endpoints")

    async def get_booking_endpoint(self, org_id: str) -> m.EndpointRead:
        """The organization's push endpoint and its health (never its secret)."""
        path = {"org_id": org_id}
        return await self._call(m.EndpointRead, "GET", ORG + "/booking-endpoint", path)

    async def put_booking_endpoint(self, org_id: str, body: m.EndpointPut) -> m.EndpointRead:
        """Set where the organization's revisions are pushed; the answer that creates the
        endpoint or rotates its secret carries the `secret` (only that one)."""
        path = {"org_id": org_id}
        return await self._call(m.EndpointRead, "PUT", ORG + "/booking-endpoint", path, body=body)
