"""The feed iterator against the app in process (Channex's bookings a respx fake): it pages
through the feed with its cursor, stops at the end, and with `pending` and acks it is a work
queue that needs no cursor."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from app.settings import Settings
from channel_sync_client import ChannelSyncClient
from tests import booking_fakes
from tests.api.test_bookings import book
from tests.api.test_webhooks import settle
from tests.booking_fakes import ChannexBookings, booking_settings
from tests.factories import onboard
from tests.fake_channex import FakeChannex

booking_fake = booking_fakes.booking_fake
channex = booking_fakes.channex
bookings = booking_fakes.bookings


@pytest.fixture
def settings(database_url: str) -> Settings:
    return booking_settings(database_url)


@pytest.fixture
def pages_fetched() -> list[str]:
    return []


@pytest.fixture
async def pms(
    client: httpx.AsyncClient, pages_fetched: list[str]
) -> AsyncIterator[ChannelSyncClient]:
    async def record(request: httpx.Request) -> None:
        if request.url.path == "/v1/bookings/revisions":
            pages_fetched.append(str(request.url.params.get("after")))

    client.event_hooks["request"].append(record)
    async with ChannelSyncClient(http=client) as pms:
        yield pms


async def test_the_feed_iterator_pages_to_the_end_in_feed_order(
    app: FastAPI,
    client: httpx.AsyncClient,
    channex: FakeChannex,
    bookings: ChannexBookings,
    pms: ChannelSyncClient,
    pages_fetched: list[str],
) -> None:
    await onboard(client)
    made = [await book(client, channex, bookings, minutes=n) for n in range(5)]
    await settle(app)
    whole = await pms.list_booking_revisions(limit=500)

    seen = [r.id async for r in pms.iter_booking_revisions(limit=2)]

    assert sorted(seen) == sorted(made)
    assert seen == [r.id for r in whole.items]
    assert len(pages_fetched) == 1 + 3  # the whole page, then pages of 2, 2 and 1
    pages = [page async for page in pms.iter_booking_revision_pages(limit=2)]
    assert [page.next_cursor is None for page in pages] == [False, False, True]
    after_all = [r async for r in pms.iter_booking_revisions(after=pages[-1].resume_after)]
    assert after_all == []


async def test_the_feed_iterator_stops_at_a_full_last_page_and_resumes_after_it(
    app: FastAPI,
    client: httpx.AsyncClient,
    channex: FakeChannex,
    bookings: ChannexBookings,
    pms: ChannelSyncClient,
    pages_fetched: list[str],
) -> None:
    await onboard(client)
    made = [await book(client, channex, bookings, minutes=n) for n in range(4)]
    await settle(app)

    pages = [page async for page in pms.iter_booking_revision_pages(limit=2)]
    newer = await book(client, channex, bookings, minutes=9)
    await settle(app)
    resumed = [r.id async for r in pms.iter_booking_revisions(after=pages[-1].resume_after)]

    assert len(pages) == 2  # no third request for an empty page: the second says it is last
    assert sorted(r.id for page in pages for r in page.items) == sorted(made)
    assert resumed == [newer]


async def test_pending_revisions_acked_as_they_come_are_not_seen_again(
    app: FastAPI,
    client: httpx.AsyncClient,
    channex: FakeChannex,
    bookings: ChannexBookings,
    pms: ChannelSyncClient,
) -> None:
    await onboard(client)
    made = [await book(client, channex, bookings, minutes=n) for n in range(3)]
    await settle(app)

    taken = []
    async for revision in pms.iter_booking_revisions(pending=True, limit=2):
        taken.append((await pms.ack_booking_revision(revision.id)).id)
        if len(taken) == 2:
            break
    rest = [r.id async for r in pms.iter_booking_revisions(pending=True)]

    assert sorted(taken + rest) == sorted(made)
    assert set(taken).isdisjoint(rest)
    for revision_id in rest:
        assert (await pms.ack_booking_revision(revision_id)).pulled_at is not None
    assert [r async for r in pms.iter_booking_revisions(pending=True)] == []
