"""A channel-sync deployment made of `channel-sync` processes (API, workers, the sandbox as
its Channex), as the installed-wheel, scale-out and fault tests drive it: the environment
the processes get, starting them, onboarding hotels, booking through the sandbox."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet

from tests.e2e.processes import Process, Processes, wait_for_http

Json = dict[str, Any]
PMS_KEY = "e2e-pms-key"
SANDBOX_KEY = "sandbox-key"
START_SECONDS = 90.0  # two cores shared by every process starting at once


def service_env(sandbox_port: int, public_url: str) -> dict[str, str]:
    """Settings of the service processes: Channex is the sandbox on `sandbox_port`, which
    posts its webhooks to `public_url`; sweeps and feed reconciliation run every second or
    two so that lost work shows quickly."""
    return {
        "CHANNEX_API_URL": f"http://127.0.0.1:{sandbox_port}/api/v1",
        "CHANNEX_API_KEY": SANDBOX_KEY,
        "CHANNEX_WEBHOOK_SECRET": "e2e-webhook-secret",
        "PUBLIC_BASE_URL": public_url,
        "ALLOW_PRIVATE_CALLBACKS": "true",
        "API_KEYS": json.dumps([{"name": "pms", "key": PMS_KEY}]),
        "PERSONAL_DATA_KEYS": json.dumps([Fernet.generate_key().decode()]),
        "SWEEP_INTERVAL_SECONDS": "1",
        "BOOKING_RECONCILE_INTERVAL_SECONDS": "2",
    }


async def start_sandbox(group: Processes, cli: Path, port: int) -> Process:
    process = group.start("sandbox", [cli, "sandbox", "--port", str(port)])
    await wait_for_http(f"http://127.0.0.1:{port}/sandbox/faults", process, START_SECONDS)
    return process


async def start_api(group: Processes, cli: Path, port: int, name: str = "api") -> Process:
    """`channel-sync serve` on `port`, once it reports ready (database, Redis, Channex)."""
    process = group.start(name, [cli, "serve", "--port", str(port)])
    await wait_for_http(f"http://127.0.0.1:{port}/health/ready", process, START_SECONDS)
    return process


def pms_client(port: int) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {PMS_KEY}"}
    return httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30)


def sandbox_clients(port: int) -> tuple[httpx.AsyncClient, httpx.AsyncClient]:
    """(the sandbox's Channex API, its /sandbox tools)."""
    base = f"http://127.0.0.1:{port}"
    api = httpx.AsyncClient(
        base_url=f"{base}/api/v1", headers={"user-api-key": SANDBOX_KEY}, timeout=30
    )
    return api, httpx.AsyncClient(base_url=f"{base}/sandbox", timeout=30)


def ok(response: httpx.Response) -> Json:
    assert response.is_success, f"{response.request.url}: {response.status_code} {response.text}"
    body: Json = response.json()
    return body


@dataclass(frozen=True)
class Hotel:
    """One onboarded property: our ids and the sandbox's."""

    organization_id: str
    property_id: str
    channex_property_id: str
    channex_room_type_id: str
    channex_rate_plan_id: str


async def onboard(api: httpx.AsyncClient, organization_id: str, property_id: str) -> Hotel:
    """Organization, property, room type `dbl` and rate plan `bar`, through the PMS API."""
    await api.put(f"/v1/organizations/{organization_id}", json={"title": organization_id})
    prop = ok(
        await api.put(
            f"/v1/properties/{property_id}",
            json={
                "organization_id": organization_id,
                "title": f"Hotel {property_id}",
                "currency": "EUR",
                "timezone": "Europe/Lisbon",
            },
        )
    )
    room_path = f"/v1/properties/{property_id}/room-types/dbl"
    room = ok(
        await api.put(room_path, json={"title": "Double", "count_of_rooms": 20, "occ_adults": 2})
    )
    rate_body = {"title": "Best Available Rate", "options": [{"occupancy": 2, "rate": "120"}]}
    rate = ok(await api.put(f"{room_path}/rate-plans/bar", json=rate_body))
    return Hotel(
        organization_id,
        property_id,
        prop["channex_property_id"],
        room["channex_room_type_id"],
        rate["channex_rate_plan_id"],
    )


async def webhook_registered(channex: httpx.AsyncClient, public_url: str) -> bool:
    """Whether the service registered its Channex webhook at `public_url` in the sandbox."""
    hooks = ok(await channex.get("/webhooks"))["data"]
    return any(h["attributes"]["callback_url"].startswith(public_url) for h in hooks)


def day(offset: int) -> date:
    return datetime.now(UTC).date() + timedelta(days=offset)


async def book(tools: httpx.AsyncClient, hotel: Hotel, arrival: int, nights: int = 2) -> Json:
    """A Booking.com booking made in the sandbox: {booking_id, revision_id, status, ...}."""
    body = {
        "channel": "BookingCom",
        "room_type_id": hotel.channex_room_type_id,
        "rate_plan_id": hotel.channex_rate_plan_id,
        "arrival_date": day(arrival).isoformat(),
        "departure_date": day(arrival + nights).isoformat(),
        "guest": {"name": "Ada", "surname": "Lovelace"},
    }
    path = f"/properties/{hotel.channex_property_id}/bookings"
    summary: Json = ok(await tools.post(path, json=body))["data"]
    return summary


async def connect_booking_com(tools: httpx.AsyncClient, hotel: Hotel) -> None:
    """The hotel connects Booking.com in the sandbox (bookings need a channel)."""
    path = f"/properties/{hotel.channex_property_id}/channels"
    ok(await tools.post(path, json={"channel": "BookingCom"}))
