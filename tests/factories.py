"""Factories of the tests: the rows, entities and payloads they build, in one module.

Grouped by where the thing is made: our API (as the PMS calls it), the database directly,
Channex's wire format (for respx fakes), the Channex sandbox through its own API (as
channel-sync would call Channex), our Channex client against a sandbox, and a job's context.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from cryptography.fernet import Fernet
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.channex.client import ChannexClient
from app.channex.schemas import (
    PropertyAttributes,
    RatePlanAttributes,
    RatePlanOption,
    RoomTypeAttributes,
)
from app.db import create_engine, create_session_factory
from app.jobs.context import WorkerContext
from app.jobs.requests import JobQueue
from app.models import Organization, PmsEndpoint, Property, RatePlan, RoomType
from app.services.delivery import delivery_client
from app.settings import Settings

Json = dict[str, Any]


def today() -> date:
    return datetime.now(UTC).date()


# --- our API, as the PMS calls it -------------------------------------------------------------

PROPERTY = {
    "organization_id": "org-1",
    "title": "Seaside Hotel",
    "currency": "eur",
    "timezone": "Europe/Lisbon",
    "country": "PT",
    "city": "Lisbon",
}
ROOM = {"title": "Double Room", "count_of_rooms": 12, "occ_adults": 2}
RATE = {"title": "Best Available Rate", "options": [{"occupancy": 2, "rate": "100.50"}]}


async def onboard(client: httpx.AsyncClient) -> None:
    """org-1 with property p-1, room type dbl and its rate plan bar."""
    for path, body in [
        ("/v1/organizations/org-1", {"title": "Seaside Hotels"}),
        ("/v1/properties/p-1", PROPERTY),
        ("/v1/properties/p-1/room-types/dbl", ROOM),
        ("/v1/properties/p-1/room-types/dbl/rate-plans/bar", RATE),
    ]:
        response = await client.put(path, json=body)
        assert response.status_code == 200, response.text


async def seed_two_organizations(client: httpx.AsyncClient) -> None:
    """org-1 onboarded as `onboard` does, and org-2 with its own property p-2."""
    await onboard(client)
    await client.put("/v1/organizations/org-2", json={"title": "Mountain Inns"})
    other = {**PROPERTY, "organization_id": "org-2", "title": "Alpine Lodge"}
    assert (await client.put("/v1/properties/p-2", json=other)).status_code == 200


def availability_item(room: str, first: date, last: date, count: int) -> Json:
    """One item of POST /ari: availability `count` for the room over the dates."""
    return {"type": "availability", "room_type_id": room, "date_from": first.isoformat(),
            "date_to": last.isoformat(), "availability": count}  # fmt: skip


def restrictions_item(room: str, plan: str, first: date, last: date, **fields: Any) -> Json:
    """One item of POST /ari: restriction fields (rate, stays, flags) over the dates."""
    return {"type": "restrictions", "room_type_id": room, "rate_plan_id": plan,
            "date_from": first.isoformat(), "date_to": last.isoformat(), **fields}  # fmt: skip


# A safe distance from "today" whatever the hour in the property's zone.
ARI_START = today() + timedelta(days=2)


def ari_day(offset: int) -> str:
    """ISO date `offset` days after ARI_START."""
    return (ARI_START + timedelta(days=offset)).isoformat()


def availability(first: int, last: int, count: int, room: str = "dbl") -> Json:
    """An availability item of p-1 (as `onboard` makes it), dates as offsets from ARI_START."""
    start = ARI_START
    return availability_item(room, start + timedelta(first), start + timedelta(last), count)


def restrictions(first: int, last: int, **fields: Any) -> Json:
    """A restrictions item of dbl / bar, dates as offsets from ARI_START."""
    start = ARI_START
    return restrictions_item(
        "dbl", "bar", start + timedelta(first), start + timedelta(last), **fields
    )


async def onboard_two_rooms(api: httpx.AsyncClient) -> tuple[str, list[tuple[str, str]]]:
    """org-1 / p-1 with room types dbl and twn and a rate plan bar each: the Channex property
    id, and the Channex (room type, rate plan) ids."""
    await onboard_step(api, "/v1/organizations/org-1", {"title": "Seaside Hotels"})
    prop = await onboard_step(api, "/v1/properties/p-1", PROPERTY)
    rooms = []
    for code in ("dbl", "twn"):
        path = f"/v1/properties/p-1/room-types/{code}"
        room = await onboard_step(api, path, {**ROOM, "title": f"Room {code}"})
        rate = await onboard_step(api, f"{path}/rate-plans/bar", {**RATE, "title": f"Rate {code}"})
        rooms.append((room["channex_room_type_id"], rate["channex_rate_plan_id"]))
    return prop["channex_property_id"], rooms


async def onboard_step(api: httpx.AsyncClient, path: str, body: Json) -> Json:
    """One PUT of the onboarding, which must succeed; its answer."""
    response = await api.put(path, json=body)
    assert response.is_success, response.text
    answer: Json = response.json()
    return answer


# The ARI end-to-end hotel: every room type with every rate plan, one of them per person.
ARI_ROOMS = ("dbl", "twn", "fam")
ARI_PLANS = ("bar", "nr")
PER_PERSON = ("fam", "bar")  # one per-person plan: occupancies 1..3


async def put_as_pms(api: httpx.AsyncClient, path: str, body: Json) -> Json:
    """PUT as a PMS does: again after a 503 (Channex slow or down; the scaled-down client
    timeout of the end-to-end tests makes that happen under load). PUTs are idempotent: a
    create that timed out but landed is found again, never made twice (the tests count them)."""
    for _ in range(5):
        response = await api.put(path, json=body)
        if response.status_code != 503:
            break
        await asyncio.sleep(0.5)  # a PMS's pause before trying again
    assert response.is_success, response.text
    answer: Json = response.json()
    return answer


async def onboard_ari_hotel(api: httpx.AsyncClient, timezone: str = "Pacific/Honolulu") -> str:
    """org-1 / p-1 with ARI_ROOMS x ARI_PLANS (fam:bar per person); the Channex property id."""
    await put_as_pms(api, "/v1/organizations/org-1", {"title": "Seaside Hotels"})
    body = {"organization_id": "org-1", "title": "Seaside", "currency": "EUR", "timezone": timezone}
    prop = await put_as_pms(api, "/v1/properties/p-1", body)
    for room in ARI_ROOMS:
        path = f"/v1/properties/p-1/room-types/{room}"
        await put_as_pms(api, path, {"title": room, "count_of_rooms": 9, "occ_adults": 3})
        for plan in ARI_PLANS:
            rate: Json = {
                "title": f"{room} {plan}",
                "options": [{"occupancy": 3, "rate": "100.00"}],
            }
            if (room, plan) == PER_PERSON:
                options = [{"occupancy": n, "is_primary": n == 3, "rate": "90"} for n in (1, 2, 3)]
                rate = {"title": f"{room} {plan}", "sell_mode": "per_person", "options": options}
            await put_as_pms(api, f"{path}/rate-plans/{plan}", rate)
    return str(prop["channex_property_id"])


@dataclass(frozen=True)
class OnboardedHotel:
    """One property onboarded through our API: our ids and the sandbox's."""

    organization_id: str
    property_id: str
    channex_property_id: str
    channex_room_type_id: str
    channex_rate_plan_id: str


async def onboard_property(
    api: httpx.AsyncClient, organization_id: str, property_id: str
) -> OnboardedHotel:
    """Organization, property, room type `dbl` and rate plan `bar`, through the PMS API."""
    await api.put(f"/v1/organizations/{organization_id}", json={"title": organization_id})
    body = {"organization_id": organization_id, "title": f"Hotel {property_id}",
            "currency": "EUR", "timezone": "Europe/Lisbon"}  # fmt: skip
    prop = await onboard_step(api, f"/v1/properties/{property_id}", body)
    room_path = f"/v1/properties/{property_id}/room-types/dbl"
    room = {"title": "Double", "count_of_rooms": 20, "occ_adults": 2}
    room_type = await onboard_step(api, room_path, room)
    rate = {"title": "Best Available Rate", "options": [{"occupancy": 2, "rate": "120"}]}
    rate_plan = await onboard_step(api, f"{room_path}/rate-plans/bar", rate)
    return OnboardedHotel(
        organization_id,
        property_id,
        prop["channex_property_id"],
        room_type["channex_room_type_id"],
        rate_plan["channex_rate_plan_id"],
    )


async def connect_booking_com(tools: httpx.AsyncClient, hotel: OnboardedHotel) -> None:
    """The hotel connects Booking.com in the sandbox (bookings need a channel)."""
    path = f"/properties/{hotel.channex_property_id}/channels"
    response = await tools.post(path, json={"channel": "BookingCom"})
    assert response.is_success, response.text


async def book_in_sandbox(
    tools: httpx.AsyncClient, hotel: OnboardedHotel, arrival: int, nights: int = 2
) -> Json:
    """A Booking.com booking made in the sandbox: {booking_id, revision_id, status, ...}."""
    body = {
        "channel": "BookingCom",
        "room_type_id": hotel.channex_room_type_id,
        "rate_plan_id": hotel.channex_rate_plan_id,
        "arrival_date": day(arrival),
        "departure_date": day(arrival + nights),
        "guest": {"name": "Ada", "surname": "Lovelace"},
    }
    response = await tools.post(f"/properties/{hotel.channex_property_id}/bookings", json=body)
    assert response.is_success, response.text
    summary: Json = response.json()["data"]
    return summary


# --- rows written straight to the database ----------------------------------------------------


@dataclass(frozen=True)
class Seeded:
    property_pk: int
    channex_property_id: str
    room_types: dict[str, str]  # PMS id → Channex id
    rate_plans: dict[str, str]  # "room:plan" → Channex id


async def seed_property(
    session_factory: async_sessionmaker[AsyncSession],
    *,
    pms_property_id: str = "p-1",
    timezone: str = "UTC",
    rooms: int = 1,
    plans: tuple[str, ...] = ("bar",),
    per_person: tuple[str, ...] = (),
) -> Seeded:
    """An onboarded property (org-1) with mapped, synced room types and rate plans."""
    async with session_factory() as session:
        org = Organization(pms_organization_id="org-1", title="Org", channex_group_id="g-1")
        session.add(org)
        await session.flush()
        prop = Property(
            organization_id=org.id, pms_property_id=pms_property_id, title="Hotel",
            channex_property_id=f"cx-{pms_property_id}", currency="EUR", timezone=timezone,
            state_length=500, sync_status="synced",
        )  # fmt: skip
        session.add(prop)
        await session.flush()
        room_ids: dict[str, str] = {}
        plan_ids: dict[str, str] = {}
        for n in range(rooms):
            room = RoomType(
                property_id=prop.id, pms_room_type_id=f"r{n}", channex_room_type_id=f"cx-r{n}",
                title=f"Room {n}", count_of_rooms=10, occ_adults=2, default_occupancy=2,
                sync_status="synced",
            )  # fmt: skip
            session.add(room)
            await session.flush()
            room_ids[room.pms_room_type_id] = f"cx-r{n}"
            for plan in plans:
                person = plan in per_person
                options = [{"occupancy": o, "is_primary": o == 2, "rate": "0"} for o in (1, 2)]
                session.add(
                    RatePlan(
                        property_id=prop.id, room_type_id=room.id, pms_rate_plan_id=plan,
                        channex_rate_plan_id=f"cx-r{n}-{plan}", title=plan,
                        sell_mode="per_person" if person else "per_room",
                        options=options if person else options[1:], sync_status="synced",
                    )
                )  # fmt: skip
                plan_ids[f"r{n}:{plan}"] = f"cx-r{n}-{plan}"
        await session.commit()
        return Seeded(prop.id, f"cx-{pms_property_id}", room_ids, plan_ids)


async def seed_pms_endpoints(url: str, secret: str, old_key: str) -> None:
    """A global PMS endpoint whose secret is encrypted with `old_key`, and an organization's
    endpoint whose secret is still stored in the clear (scopes `global` and `org:1`)."""
    engine = create_engine(url)
    async with create_session_factory(engine)() as session:
        token = Fernet(old_key.encode()).encrypt(secret.encode()).decode()
        session.add(PmsEndpoint(scope="global", url="https://pms.test/h", secret="fernet:" + token))
        session.add(PmsEndpoint(scope="org:1", url="https://pms.test/o", secret=secret))
        await session.commit()
    await engine.dispose()


# --- Channex's wire format, for the respx fakes -----------------------------------------------


def channex_item(kind: str, item_id: str, **attributes: Any) -> Json:
    """A JSON:API item as Channex sends it: `attributes` repeats the id (§1.3)."""
    return {"type": kind, "id": item_id, "attributes": {"id": item_id, **attributes}}


def channex_groups(count: int) -> list[Json]:
    return [channex_item("group", f"g-{n}", title=f"Group {n}") for n in range(count)]


def channex_revision(n: int, inserted_at: str) -> Json:
    """Booking revision r-{n} of booking b-{n}, a new booking of property p1."""
    return channex_item(
        "booking_revision", f"r-{n}", booking_id=f"b-{n}", property_id="p1",
        status="new", inserted_at=inserted_at,
    )  # fmt: skip


def webhook_body(event: str, prop: str | None, **payload: Any) -> Json:
    """A Channex webhook envelope (§8.3)."""
    return {
        "event": event,
        "property_id": prop,
        "user_id": None,
        "timestamp": "2030-12-01T10:00:00.000000Z",
        "payload": payload,
    }


# --- the Channex sandbox, through its own API -------------------------------------------------


def day(offset: int) -> str:
    """ISO date `offset` days from today (UTC, the sandbox's "today")."""
    return (today() + timedelta(days=offset)).isoformat()


@dataclass(frozen=True)
class Hotel:
    group_id: str
    property_id: str
    room_type_id: str
    rate_plan_id: str


async def created(client: httpx.AsyncClient, path: str, kind: str, attrs: Json) -> str:
    """POST one entity to the sandbox's Channex API; its id."""
    response = await client.post(path, json={kind: attrs})
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


async def make_hotel(client: httpx.AsyncClient, title: str = "Test Property") -> Hotel:
    """A group, a USD property in it, one room type (2 adults) and one rate plan at 100.00."""
    group_id = await created(client, "/groups", "group", {"title": f"{title} group"})
    property_id = await created(
        client,
        "/properties",
        "property",
        {"title": title, "currency": "USD", "group_id": group_id},
    )
    room_type_id = await created(
        client,
        "/room_types",
        "room_type",
        {
            "property_id": property_id,
            "title": "Twin Room",
            "count_of_rooms": 5,
            "occ_adults": 2,
            "occ_children": 0,
            "occ_infants": 0,
            "default_occupancy": 2,
        },
    )
    rate_plan_id = await created(
        client,
        "/rate_plans",
        "rate_plan",
        {
            "property_id": property_id,
            "room_type_id": room_type_id,
            "title": "Best Available Rate",
            "options": [{"occupancy": 2, "is_primary": True, "rate": 10000}],
        },
    )
    return Hotel(group_id, property_id, room_type_id, rate_plan_id)


async def make_webhook(client: httpx.AsyncClient, hotel: Hotel, url: str, **attrs: Any) -> Json:
    """A webhook of the hotel's property to `url`, every event unless `event_mask` says."""
    body = {"property_id": hotel.property_id, "callback_url": url, "event_mask": "*", **attrs}
    response = await client.post("/webhooks", json={"webhook": body})
    assert response.status_code == 201, response.text
    data: Json = response.json()["data"]
    return data


async def make_channel(tools: httpx.AsyncClient, hotel: Hotel, code: str = "BookingCom") -> str:
    """A channel (OTA) connected to the hotel in the sandbox; its id."""
    response = await tools.post(f"/properties/{hotel.property_id}/channels", json={"channel": code})
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


async def make_booking(tools: httpx.AsyncClient, hotel: Hotel, **extra: Any) -> Json:
    """A Booking.com booking of 2 nights from day 10, made by the sandbox's OTA simulator."""
    body = {
        "channel": "BookingCom",
        "room_type_id": hotel.room_type_id,
        "rate_plan_id": hotel.rate_plan_id,
        "arrival_date": day(10),
        "departure_date": day(12),
        "guest": {"name": "Ada", "surname": "Lovelace", "mail": "ada@example.com"},
        **extra,
    }
    response = await tools.post(f"/properties/{hotel.property_id}/bookings", json=body)
    assert response.status_code == 201, response.text
    data: Json = response.json()["data"]
    return data


# --- our Channex client, against a sandbox ----------------------------------------------------


async def make_client_hotel(client: ChannexClient, rooms: int = 1) -> tuple[str, list[str], str]:
    """A property with `rooms` room types and a per-person rate plan on the first one, made
    through our client: (property id, room type ids, rate plan id)."""
    group = await client.create_group("Contract Hotels")
    prop = await client.create_property(
        PropertyAttributes(title="Contract Hotel", currency="USD", group_id=group.id)
    )
    room_ids = []
    for i in range(rooms):
        room = await client.create_room_type(
            RoomTypeAttributes(
                property_id=prop.id,
                title=f"Room {i}",
                count_of_rooms=4,
                occ_adults=2,
                default_occupancy=2,
            )
        )
        room_ids.append(room.id)
    plan = await client.create_rate_plan(
        RatePlanAttributes(
            property_id=prop.id,
            room_type_id=room_ids[0],
            title="Per person",
            sell_mode="per_person",
            options=[
                RatePlanOption(occupancy=1, rate=8000),
                RatePlanOption(occupancy=2, is_primary=True, rate=10000),
            ],
        )
    )
    return prop.id, room_ids, plan.id


# --- a job's context --------------------------------------------------------------------------


def make_ctx(
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    channex: ChannexClient,
    queue: JobQueue,
) -> WorkerContext:
    """What a job receives, built from these pieces instead of a process's resources."""
    return WorkerContext(
        settings=settings,
        session_factory=session_factory,
        channex=channex,
        queue=queue,
        pms_http=delivery_client(settings),
    )
