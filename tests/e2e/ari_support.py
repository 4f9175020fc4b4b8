"""ARI end to end: the service wired to a sandbox on a real port, random PMS batches, and the
desired state they add up to, to compare with what the sandbox holds."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import SecretStr

from app.main import create_app
from app.resources import Resources
from app.sandbox.app import create_sandbox_app
from app.sandbox.config import SandboxConfig
from app.sandbox.state import SandboxState
from app.settings import Settings
from tests.conftest import GLOBAL_KEY
from tests.factories import ARI_PLANS, ARI_ROOMS, PER_PERSON
from tests.sandbox.servers import serve

SANDBOX_KEY = "ari-e2e-key"
WEEKDAYS = ("mo", "tu", "we", "th", "fr", "sa", "su")
TARGET_KEYS = {"type", "room_type_id", "rate_plan_id", "date_from", "date_to", "days"}
FLAGS = ("closed_to_arrival", "closed_to_departure", "stop_sell")
Json = dict[str, Any]
# (type, room, plan or "", date) → {field: value} as the PMS last said it.
Desired = dict[tuple[str, str, str, date], Json]


@dataclass
class Wired:
    """The service (an httpx client over its app) and the sandbox it talks to over HTTP."""

    api: httpx.AsyncClient
    app: FastAPI
    sandbox: SandboxState
    tools: httpx.AsyncClient  # the sandbox's /sandbox/... routes
    direct: httpx.AsyncClient  # the sandbox's Channex API, as someone editing inside Channex

    @property
    def resources(self) -> Resources:
        resources: Resources = self.app.state.resources
        return resources

    async def wait_idle(self, timeout: float = 60.0) -> None:  # noqa: ASYNC109
        await self.resources.queue.wait_idle(timeout)  # type: ignore[attr-defined]


@asynccontextmanager
async def wired(settings: Settings, config: SandboxConfig) -> AsyncIterator[Wired]:
    """A sandbox served on 127.0.0.1 and the service configured to use it as Channex."""
    sandbox_app = create_sandbox_app(config)
    async with serve(sandbox_app) as url:
        service_settings = settings.model_copy(
            update={
                "channex_api_url": f"{url}/api/v1",
                "channex_api_key": SecretStr(config.api_key),
            }
        )
        app = create_app(service_settings)
        headers = {"Authorization": f"Bearer {GLOBAL_KEY}"}
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://service", headers=headers
            ) as api,
            httpx.AsyncClient(base_url=f"{url}/sandbox") as tools,
            httpx.AsyncClient(
                base_url=f"{url}/api/v1", headers={"user-api-key": config.api_key}
            ) as direct,
        ):
            yield Wired(api, app, sandbox_app.state.sandbox, tools, direct)


async def ok(response: httpx.Response) -> Json:
    assert response.is_success, response.text
    body: Json = response.json()
    return body


def local_today(timezone: str) -> date:
    from zoneinfo import ZoneInfo

    return (datetime.now(UTC).astimezone(ZoneInfo(timezone)) - timedelta(hours=2)).date()


def random_item(rng: random.Random, start: date, span: int) -> Json:
    """One PMS change: availability or some restrictions over a random range, maybe weekdays."""
    first = start + timedelta(days=rng.randrange(span))
    last = min(first + timedelta(days=rng.randrange(1, 20)), start + timedelta(days=span - 1))
    room = rng.choice(ARI_ROOMS)
    item: Json = {"room_type_id": room, "date_from": first.isoformat(), "date_to": last.isoformat()}
    if rng.random() < 0.2:
        item["days"] = sorted(rng.sample(WEEKDAYS, rng.randint(1, 3)), key=WEEKDAYS.index)
    if rng.random() < 0.4:
        return {"type": "availability", **item, "availability": rng.randint(0, 9)}
    plan = rng.choice(ARI_PLANS)
    item |= {"type": "restrictions", "rate_plan_id": plan}
    if (room, plan) == PER_PERSON:
        item["rates"] = [
            {"occupancy": n, "rate": f"{rng.randint(60, 90) + 10 * n}.50"} for n in (1, 2, 3)
        ]
    elif rng.random() < 0.7:
        item["rate"] = f"{rng.randint(80, 200)}.00"
    if rng.random() < 0.4:
        item["min_stay_arrival"] = rng.randint(1, 4)
    if rng.random() < 0.3:
        item[rng.choice(FLAGS)] = rng.random() < 0.5
    if rng.random() < 0.2 or not set(item) & {"rate", "rates", "min_stay_arrival", *FLAGS}:
        item["max_stay"] = rng.choice([0, 7, 14])
    return item


def apply(desired: Desired, item: Json) -> None:
    """What the PMS means by the item: the fields it gives, on each (weekday-filtered) date."""
    first, last = date.fromisoformat(item["date_from"]), date.fromisoformat(item["date_to"])
    fields = {k: v for k, v in item.items() if k not in TARGET_KEYS}
    day = first
    while day <= last:
        if "days" not in item or WEEKDAYS[day.weekday()] in item["days"]:
            key = (item["type"], item["room_type_id"], item.get("rate_plan_id", ""), day)
            desired.setdefault(key, {}).update(fields)
        day += timedelta(days=1)


def _normal(name: str, value: Any) -> Any:
    """Compare money as numbers and per-occupancy rates as sorted (occupancy, amount) pairs."""
    if name == "rate":
        return Decimal(str(value))
    if name == "rates":
        return sorted((int(r["occupancy"]), Decimal(str(r["rate"]))) for r in value)
    return value


async def channex_ids(api: httpx.AsyncClient) -> dict[tuple[str, str], str]:
    """(room, plan or "") → Channex room type / rate plan id."""
    ids: dict[tuple[str, str], str] = {}
    for room in ARI_ROOMS:
        path = f"/v1/properties/p-1/room-types/{room}"
        ids[(room, "")] = (await ok(await api.get(path)))["channex_room_type_id"]
        for plan in ARI_PLANS:
            rate = await ok(await api.get(f"{path}/rate-plans/{plan}"))
            ids[(room, plan)] = rate["channex_rate_plan_id"]
    return ids


async def mismatches(
    tools: httpx.AsyncClient, property_id: str, ids: dict[tuple[str, str], str], desired: Desired
) -> list[str]:
    """Every desired (cell, field) the sandbox does not hold, as readable lines."""
    held = (await ok(await tools.get("/ari", params={"property_id": property_id})))["data"]
    wrong = []
    for (kind, room, plan, day), fields in sorted(desired.items()):
        cells = held[kind][ids[(room, plan)]]
        cell = cells.get(day.isoformat())
        actual = {"availability": cell} if kind == "availability" else (cell or {})
        for name, value in fields.items():
            if name not in actual or _normal(name, actual[name]) != _normal(name, value):
                wrong.append(f"{kind} {room}/{plan} {day} {name}: {actual.get(name)!r} ≠ {value!r}")
    return wrong
