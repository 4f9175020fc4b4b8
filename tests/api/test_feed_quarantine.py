"""A malformed entry in Channex's feed is quarantined (reason and raw body kept, acked) without
holding up the rest of the feed, and re-applied by API once Channex serves it correctly."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from app.models import QuarantinedRevision
from app.services.personal_data import build_cipher, decrypt
from tests import booking_fakes
from tests.api.test_webhooks import count, ids, resources, settle
from tests.booking_fakes import ChannexBookings
from tests.conftest import ORG1_KEY
from tests.factories import onboard
from tests.fake_channex import FakeChannex

booking_fake = booking_fakes.booking_fake
channex = booking_fakes.channex
bookings = booking_fakes.bookings
settings = booking_fakes.settings


async def reconcile(app: FastAPI) -> None:
    await resources(app).queue.enqueue("reconcile_bookings", 1)
    await settle(app)


async def test_a_malformed_feed_entry_is_quarantined_acked_and_reapplied_once_served_right(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex, bookings: ChannexBookings
) -> None:
    await onboard(client)
    prop, room, rate = ids(channex)
    made = [
        bookings.add(prop, room_type_id=room, rate_plan_id=rate, minutes=n, guest=f"G{n}")
        for n in range(3)
    ]
    bad = made[1]
    bookings.revisions[bad]["status"] = "exploded"  # not new | modified | cancelled

    await reconcile(app)
    await reconcile(app)  # twice: nothing is quarantined or applied twice

    assert sorted(bookings.acked) == sorted(made)  # the bad one too: no 30-minute alarm
    feed = (await client.get("/v1/bookings/revisions")).json()["items"]
    assert sorted(i["id"] for i in feed) == sorted([made[0], made[2]])
    problems = (await client.get("/v1/bookings/problems")).json()
    (held,) = problems["quarantined_revisions"]
    assert (held["revision_id"], held["booking_id"]) == (bad, bookings.booking_of(bad))
    assert held["channex_property_id"] == prop
    assert held["reason"].startswith("Channex sent a malformed BookingRevision: status: ")
    org1 = {"Authorization": f"Bearer {ORG1_KEY}"}
    org_view = (await client.get("/v1/bookings/problems", headers=org1)).json()
    assert [q["revision_id"] for q in org_view["quarantined_revisions"]] == [bad]
    async with resources(app).session_factory() as session:
        row = (await session.execute(select(QuarantinedRevision))).scalar_one()
    assert row.payload is not None
    # Stored as a Fernet token: JSON's quotes cannot occur in its base64, so a stored
    # plaintext would show (a short guest name could occur in the ciphertext by chance).
    assert row.payload.startswith("gAAAAA")
    assert '"customer"' not in row.payload
    raw = decrypt(build_cipher(resources(app).settings), row.payload)
    assert raw is not None
    assert raw["attributes"]["status"] == "exploded"
    assert raw["attributes"]["customer"]["name"] == "G1"

    still = await client.post(f"/v1/bookings/quarantine/{bad}/reapply")
    assert still.status_code == 502, still.text  # Channex still serves it malformed

    bookings.revisions[bad]["status"] = "new"
    fixed = await client.post(f"/v1/bookings/quarantine/{bad}/reapply")

    assert fixed.status_code == 200, fixed.text
    assert (fixed.json()["id"], fixed.json()["sequence"]) == (bad, 1)
    assert await count(app, QuarantinedRevision) == 1
    problems = (await client.get("/v1/bookings/problems")).json()
    assert problems["quarantined_revisions"] == []
    feed = (await client.get("/v1/bookings/revisions")).json()["items"]
    assert sorted(i["id"] for i in feed) == sorted(made)
