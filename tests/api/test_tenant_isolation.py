"""Tenant isolation of the booking and ARI routes: a key scoped to org-1 gets 404 (never 403,
never 200) for anything of org-2, changes nothing of it, and finds none of its rows in lists,
while the global key sees org-2's rows there (so each check could fail)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import respx
from fastapi import FastAPI
from sqlalchemy import select, update

from app.models import Booking, BookingDelivery, BookingRevision
from app.models.bookings import DeliveryStatus
from app.settings import Settings
from tests import booking_fakes
from tests.api.test_webhooks import HOOK, SECRET, post_booking, resources, settle
from tests.booking_fakes import ChannexBookings, booking_settings
from tests.conftest import ORG1_KEY
from tests.factories import PROPERTY, RATE, ROOM, ari_day, onboard, webhook_body
from tests.fake_channex import FakeChannex
from tests.services.ari_support import FakeAri
from tests.waiting import past_our_limiter

booking_fake = booking_fakes.booking_fake
channex = booking_fakes.channex
bookings = booking_fakes.bookings
router = booking_fakes.router

ORG1 = {"Authorization": f"Bearer {ORG1_KEY}"}
PMS1_URL = "https://pms-one.test/hook"
PMS2_URL = "https://pms-two.test/hook"
RANGE = {"from": ari_day(0), "to": ari_day(3)}


@pytest.fixture
def settings(database_url: str) -> Settings:
    # The PMS hosts resolve nowhere: the address check is what the flag turns off.
    return booking_settings(database_url, allow_private_callbacks=True)


@dataclass(frozen=True)
class Seeded:
    """org-1 (p-1) and org-2 (p-2), each with a pushed, unmapped (so flagged) booking."""

    mine: str  # org-1's revision id
    mine_booking: str
    theirs: str  # org-2's revision id
    their_booking: str
    their_property: str  # p-2's Channex property id
    pms1: respx.Route
    pms2: respx.Route

    def org2_markers(self) -> list[str]:
        """Strings that occur in no answer about org-1 alone."""
        return ["org-2", "p-2", PMS2_URL, self.theirs, self.their_booking, self.their_property]


async def seed(
    app: FastAPI,
    client: httpx.AsyncClient,
    channex: FakeChannex,
    bookings: ChannexBookings,
    router: respx.MockRouter,
) -> Seeded:
    await onboard(client)  # org-1, p-1 (dbl / bar)
    their = {**PROPERTY, "organization_id": "org-2", "title": "Alpine Lodge"}
    for path, body in [
        ("/v1/organizations/org-2", {"title": "Mountain Inns"}),
        ("/v1/properties/p-2", their),
        ("/v1/properties/p-2/room-types/dbl", ROOM),
        ("/v1/properties/p-2/room-types/dbl/rate-plans/bar", RATE),
        ("/v1/organizations/org-1/booking-endpoint", {"url": PMS1_URL}),
        ("/v1/organizations/org-2/booking-endpoint", {"url": PMS2_URL}),
    ]:
        response = await client.put(path, json=body)
        assert response.status_code == 200, response.text
    my_property = (await client.get("/v1/properties/p-1")).json()["channex_property_id"]
    their_property = (await client.get("/v1/properties/p-2")).json()["channex_property_id"]
    assert my_property is not None
    assert their_property not in (None, my_property)
    pms1 = router.post(PMS1_URL).respond(204)
    pms2 = router.post(PMS2_URL).respond(204)
    mine = bookings.add(my_property, guest="Ada")
    theirs = bookings.add(their_property, guest="Grace", minutes=1)
    for prop, revision_id in ((my_property, mine), (their_property, theirs)):
        booked = await post_booking(client, prop, revision_id, bookings.booking_of(revision_id))
        assert booked.status_code == 200
    await settle(app)
    assert (pms1.call_count, pms2.call_count) == (1, 1)  # each pushed to its own PMS
    return Seeded(
        mine=mine,
        mine_booking=bookings.booking_of(mine),
        theirs=theirs,
        their_booking=bookings.booking_of(theirs),
        their_property=their_property,
        pms1=pms1,
        pms2=pms2,
    )


def assert_not_found(response: httpx.Response) -> None:
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"


def outbound(channex: FakeChannex, bookings: ChannexBookings, seeded: Seeded) -> int:
    """Every request that left for Channex or a PMS so far."""
    return (
        len(channex.calls) + len(bookings.calls) + seeded.pms1.call_count + seeded.pms2.call_count
    )


async def with_limiter(
    client: httpx.AsyncClient, method: str, path: str, **kw: Any
) -> httpx.Response:
    """A request, again after our own limiter's Retry-After (ARI reads share its budget)."""
    return await past_our_limiter(lambda: client.request(method, path, **kw))


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # {org}, {prop} and {booking} are filled in with org-2's, or org-1's own
    ok: int  # what a key allowed to see the target gets
    body: dict[str, Any] | None = None
    params: dict[str, str] | None = None

    def url(self, org: str, prop: str, booking: str) -> str:
        return self.path.format(org=org, prop=prop, booking=booking)


ROUTES = [
    Route("PUT", "/v1/organizations/{org}/booking-endpoint", 200, {"url": "https://x.test/h"}),
    Route("GET", "/v1/organizations/{org}/booking-endpoint", 200),
    Route("GET", "/v1/bookings/{booking}", 200),
    Route("POST", "/v1/properties/{prop}/sync", 202),
    Route("GET", "/v1/properties/{prop}/ari", 200, params=RANGE),
    Route("GET", "/v1/properties/{prop}/drift", 200, params=RANGE),
]


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
async def test_scoped_key_gets_404_for_the_other_organization_s_route(
    app: FastAPI,
    client: httpx.AsyncClient,
    channex: FakeChannex,
    bookings: ChannexBookings,
    router: respx.MockRouter,
    route: Route,
) -> None:
    channex.ari = FakeAri().handle
    seeded = await seed(app, client, channex, bookings, router)
    endpoint_before = (await client.get("/v1/organizations/org-2/booking-endpoint")).json()
    sent_before = outbound(channex, bookings, seeded)
    theirs = route.url("org-2", "p-2", seeded.their_booking)

    response = await client.request(
        route.method, theirs, json=route.body, params=route.params, headers=ORG1
    )
    await settle(app)

    assert_not_found(response)
    assert outbound(channex, bookings, seeded) == sent_before  # nothing reached Channex or a PMS
    endpoint_after = (await client.get("/v1/organizations/org-2/booking-endpoint")).json()
    assert endpoint_after == endpoint_before  # still PMS2_URL, not re-enabled or re-keyed
    assert endpoint_after["url"] == PMS2_URL
    # The same key on its own organization, and the global key on org-2, get through.
    mine = route.url("org-1", "p-1", seeded.mine_booking)
    own = await with_limiter(
        client, route.method, mine, json=route.body, params=route.params, headers=ORG1
    )
    assert own.status_code == route.ok, own.text
    await settle(app)
    anyone = await with_limiter(client, route.method, theirs, json=route.body, params=route.params)
    assert anyone.status_code == route.ok, anyone.text
    await settle(app)


async def test_scoped_key_cannot_replay_the_other_organization_s_revision(
    app: FastAPI,
    client: httpx.AsyncClient,
    channex: FakeChannex,
    bookings: ChannexBookings,
    router: respx.MockRouter,
) -> None:
    seeded = await seed(app, client, channex, bookings, router)

    response = await client.post(f"/v1/bookings/revisions/{seeded.theirs}/replay", headers=ORG1)
    await settle(app)

    assert_not_found(response)
    assert seeded.pms2.call_count == 1  # not sent again
    async with resources(app).session_factory() as session:
        stmt = (
            select(BookingDelivery.status, BookingDelivery.attempts)
            .join(BookingRevision, BookingDelivery.revision_id == BookingRevision.id)
            .where(BookingRevision.channex_revision_id == seeded.theirs)
        )
        assert (await session.execute(stmt)).all() == [(DeliveryStatus.DELIVERED, 1)]
    own = await client.post(f"/v1/bookings/revisions/{seeded.mine}/replay", headers=ORG1)
    anyone = await client.post(f"/v1/bookings/revisions/{seeded.theirs}/replay")
    await settle(app)
    assert own.json() == {"revision_id": seeded.mine, "deliveries": 1}
    assert anyone.json() == {"revision_id": seeded.theirs, "deliveries": 1}
    assert (seeded.pms1.call_count, seeded.pms2.call_count) == (2, 2)


async def test_scoped_key_cannot_ack_the_other_organization_s_revision(
    app: FastAPI,
    client: httpx.AsyncClient,
    channex: FakeChannex,
    bookings: ChannexBookings,
    router: respx.MockRouter,
) -> None:
    seeded = await seed(app, client, channex, bookings, router)

    response = await client.post(f"/v1/bookings/revisions/{seeded.theirs}/ack", headers=ORG1)

    assert_not_found(response)
    booking = (await client.get(f"/v1/bookings/{seeded.their_booking}")).json()
    assert [(r["id"], r["pulled_at"]) for r in booking["revisions"]] == [(seeded.theirs, None)]
    pending = (await client.get("/v1/bookings/revisions", params={"pending": "true"})).json()
    assert seeded.theirs in [i["id"] for i in pending["items"]]
    own = await client.post(f"/v1/bookings/revisions/{seeded.mine}/ack", headers=ORG1)
    anyone = await client.post(f"/v1/bookings/revisions/{seeded.theirs}/ack")
    assert own.status_code == anyone.status_code == 200
    assert anyone.json()["pulled_at"] is not None


async def test_scoped_key_cannot_erase_the_other_organization_s_guest_data(
    app: FastAPI,
    client: httpx.AsyncClient,
    channex: FakeChannex,
    bookings: ChannexBookings,
    router: respx.MockRouter,
) -> None:
    seeded = await seed(app, client, channex, bookings, router)

    response = await client.delete(
        f"/v1/bookings/{seeded.their_booking}/personal-data", headers=ORG1
    )

    assert_not_found(response)
    booking = (await client.get(f"/v1/bookings/{seeded.their_booking}")).json()
    assert booking["personal_data_erased_at"] is None
    (revision,) = booking["revisions"]
    assert revision["personal_data_erased"] is False
    assert revision["revision"]["customer"]["name"] == "Grace"
    assert revision["revision"]["rooms"][0]["guests"][0]["name"] == "Grace"
    async with resources(app).session_factory() as session:
        stmt = (
            select(BookingRevision.personal_data, Booking.personal_data_erased_at)
            .join(Booking, BookingRevision.booking_id == Booking.id)
            .where(BookingRevision.channex_revision_id == seeded.theirs)
        )
        stored, erased_at = (await session.execute(stmt)).one()
    assert stored is not None
    assert erased_at is None
    erased = await client.delete(f"/v1/bookings/{seeded.their_booking}/personal-data")
    assert erased.status_code == 200
    assert erased.json()["revisions"][0]["revision"]["customer"] is None


async def test_scoped_key_lists_nothing_of_the_other_organization(
    app: FastAPI,
    client: httpx.AsyncClient,
    channex: FakeChannex,
    bookings: ChannexBookings,
    router: respx.MockRouter,
) -> None:
    seeded = await seed(app, client, channex, bookings, router)
    # Give org-2 a row in every part of the problems list, and org-1 the same where cheap.
    bad = bookings.add(seeded.their_property, status="exploded", minutes=2)  # → quarantined
    alarm = webhook_body(
        "non_acked_booking", seeded.their_property, revision_id=seeded.theirs, customer_name="G"
    )
    assert (await client.post(HOOK, json=alarm, headers=SECRET)).status_code == 200
    await resources(app).queue.enqueue("reconcile_bookings", 1)
    await settle(app)
    seeded.pms2.respond(410)  # org-2's endpoint is gone, so disabled
    await client.post(f"/v1/bookings/revisions/{seeded.theirs}/replay")
    await settle(app)
    async with resources(app).session_factory() as session:
        await session.execute(update(BookingDelivery).values(status=DeliveryStatus.FAILED))
        await session.commit()

    everything = {
        path: (await client.get(path)).json()
        for path in ("/v1/bookings/endpoints", "/v1/bookings/problems", "/v1/bookings/revisions")
    }
    scoped = {
        path: (await client.get(path, headers=ORG1)).json()
        for path in ("/v1/bookings/endpoints", "/v1/bookings/problems", "/v1/bookings/revisions")
    }

    # The global key sees org-2's rows in each list (and both organizations').
    endpoints = everything["/v1/bookings/endpoints"]
    assert sorted(e["organization_id"] for e in endpoints) == ["org-1", "org-2"]
    # One grouped count for all endpoints, each endpoint given its own rows.
    failed_per_endpoint = {e["organization_id"]: e["failed_deliveries"] for e in endpoints}
    assert failed_per_endpoint == {"org-1": 1, "org-2": 1}
    problems = everything["/v1/bookings/problems"]
    flagged = {p["revision_id"] for p in problems["flagged_revisions"]}
    assert flagged == {seeded.mine, seeded.theirs}  # both unmapped
    assert [q["revision_id"] for q in problems["quarantined_revisions"]] == [bad]
    assert [e["channex_property_id"] for e in problems["events"]] == [seeded.their_property]
    failed = {d["revision_id"] for d in problems["failed_deliveries"]}
    assert failed == {seeded.mine, seeded.theirs}
    assert [e["organization_id"] for e in problems["failing_endpoints"]] == ["org-2"]
    feed = everything["/v1/bookings/revisions"]
    assert {i["id"] for i in feed["items"]} == {seeded.mine, seeded.theirs}
    for path, body in everything.items():
        assert seeded.theirs in json.dumps(body) or "org-2" in json.dumps(body), path

    # The org-1 key sees its own rows only, and no trace of org-2 anywhere.
    assert [e["organization_id"] for e in scoped["/v1/bookings/endpoints"]] == ["org-1"]
    mine = scoped["/v1/bookings/problems"]
    assert [p["revision_id"] for p in mine["flagged_revisions"]] == [seeded.mine]
    assert [d["revision_id"] for d in mine["failed_deliveries"]] == [seeded.mine]
    assert mine["quarantined_revisions"] == mine["events"] == mine["failing_endpoints"] == []
    assert [i["id"] for i in scoped["/v1/bookings/revisions"]["items"]] == [seeded.mine]
    for path, body in scoped.items():
        text = json.dumps(body)
        leaked = [m for m in [*seeded.org2_markers(), bad] if m in text]
        assert leaked == [], f"{path} shows org-2's {leaked}"
