"""ChannexClient booking revisions: fetch, feed drained oldest first, ack by revision id (§7)."""

from __future__ import annotations

import logging
from datetime import date

import pytest
import respx

from app.channex.client import ChannexClient
from tests.channex.fakes import ScriptedLimiter, payload
from tests.channex.items import paged
from tests.factories import channex_revision

REVISION_ID = "4ee2a1b4-d3b1-4a3c-8ee3-3a6b7a1b0c11"


async def test_get_booking_revision_keeps_every_attribute(
    api: respx.MockRouter, client: ChannexClient
) -> None:
    api.get(f"/booking_revisions/{REVISION_ID}").respond(json=payload("booking_revision"))

    rev = await client.get_booking_revision(REVISION_ID)

    assert (rev.id, rev.booking_id, rev.status) == (
        REVISION_ID, "2b4f6c61-9d0a-4c8a-93a4-0f0b6f1d0e22", "new",
    )  # fmt: skip
    assert (rev.unique_id, rev.arrival_date) == ("BDC-1556013801", date(2031, 1, 10))
    assert rev.raw["customer"]["mail"] == "ada@example.com"
    assert rev.raw["rooms"][0]["days"] == {"2031-01-10": "100.00", "2031-01-11": "100.00"}
    assert rev.raw["payment_collect"] is None


async def test_feed_is_drained_across_pages_and_ordered_oldest_first(
    api: respx.MockRouter, client: ChannexClient
) -> None:
    # The server's order is not trusted: entries arrive newest first here.
    items = [
        channex_revision(n, f"2030-12-01T10:{59 - n // 60:02d}:{59 - n % 60:02d}")
        for n in range(105)
    ]
    route = api.get("/booking_revisions/feed").mock(side_effect=paged(items, total=105))

    feed = await client.list_booking_revision_feed(property_id="p1")

    assert len(feed) == 105
    assert [r.id for r in feed] == [f"r-{n}" for n in reversed(range(105))]
    assert route.call_count == 2
    params = route.calls.last.request.url.params
    assert params["filter[property_id]"] == "p1"
    assert params["order[inserted_at]"] == "asc"
    assert params["pagination[page]"] == "2"


async def test_a_malformed_feed_entry_is_skipped_and_logged_the_rest_is_returned(
    api: respx.MockRouter, client: ChannexClient, caplog: pytest.LogCaptureFixture
) -> None:
    broken = channex_revision(2, "2030-12-01T10:00:02")
    broken["attributes"]["status"] = "exploded"  # not new | modified | cancelled
    items = [
        channex_revision(1, "2030-12-01T10:00:01"),
        broken,
        channex_revision(3, "2030-12-01T10:00:03"),
    ]
    api.get("/booking_revisions/feed").respond(json={"data": items, "meta": {"total": 3}})

    with caplog.at_level(logging.ERROR, logger="app.channex.client"):
        feed = await client.list_booking_revision_feed()

    assert [r.id for r in feed] == ["r-1", "r-3"]
    skipped = [r for r in caplog.records if "malformed BookingRevision" in r.getMessage()]
    assert [getattr(r, "channex_id", None) for r in skipped] == ["r-2"]


async def test_the_raw_feed_sets_malformed_entries_apart_with_their_reason_and_body(
    api: respx.MockRouter, client: ChannexClient
) -> None:
    broken = channex_revision(2, "2030-12-01T10:00:02")
    broken["attributes"].update(status="exploded", customer={"name": "Ada"})
    nameless = channex_revision(4, "2030-12-01T10:00:04")
    del nameless["id"]
    nameless["attributes"]["status"] = "exploded"
    items = [
        channex_revision(3, "2030-12-01T10:00:03"),
        broken,
        nameless,
        channex_revision(1, "2030-12-01T10:00:01"),
    ]
    route = api.get("/booking_revisions/feed").respond(json={"data": items, "meta": {"total": 4}})

    feed = await client.read_booking_revision_feed(property_id="p1")

    assert [r.id for r in feed.revisions] == ["r-1", "r-3"]
    (bad,) = feed.malformed  # the entry without an id cannot be kept or acked: only logged
    assert bad.id == "r-2"
    assert bad.item == broken  # exactly as Channex sent it
    assert bad.reason.startswith("Channex sent a malformed BookingRevision: status: ")
    assert "exploded" not in bad.reason
    assert "Ada" not in bad.reason
    assert route.calls.last.request.url.params["filter[property_id]"] == "p1"


async def test_feed_without_property_sends_no_property_filter(
    api: respx.MockRouter, client: ChannexClient
) -> None:
    route = api.get("/booking_revisions/feed").respond(json={"data": [], "meta": {"total": 0}})

    assert await client.list_booking_revision_feed() == []
    assert "filter[property_id]" not in route.calls.last.request.url.params


async def test_ack_posts_to_the_revision_id(api: respx.MockRouter, client: ChannexClient) -> None:
    route = api.post(f"/booking_revisions/{REVISION_ID}/ack").respond(
        json={"meta": {"message": "Success"}}
    )

    await client.ack_booking_revision(REVISION_ID)

    assert route.call_count == 1


async def test_a_batch_s_calls_share_one_reservation(
    api: respx.MockRouter, client: ChannexClient, limiter: ScriptedLimiter
) -> None:
    api.get(f"/booking_revisions/{REVISION_ID}").respond(json=payload("booking_revision"))
    ack = api.post(f"/booking_revisions/{REVISION_ID}/ack").respond(json={"meta": {}})

    prepaid = await client.prepay(2)
    await client.get_booking_revision(REVISION_ID, prepaid=prepaid)
    await client.ack_booking_revision(REVISION_ID, prepaid=prepaid)
    assert (limiter.batches, limiter.acquires) == ([2], [])
    await client.ack_booking_revision(REVISION_ID, prepaid=prepaid)  # none left: its own

    assert limiter.acquires == [(None, None)]
    assert ack.call_count == 2
