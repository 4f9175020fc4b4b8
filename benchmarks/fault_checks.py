"""What the fault benchmark compares: the revisions the PMS accepted against those the OTA
simulator created, the sandbox's feed of unacknowledged revisions, and the ARI the sandbox
holds against the service's desired state (and that against what the PMS posted)."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
from fault_pms import PmsReceiver, Tally, tally
from redis.asyncio import Redis

SPAN_DAYS = 60
WEEKDAYS = ("mo", "tu", "we", "th", "fr", "sa", "su")
TARGET_KEYS = {"type", "room_type_id", "rate_plan_id", "date_from", "date_to", "days"}
POLL_SECONDS = 2.0
CellKey = tuple[str, str, str, str, str]  # (property, type, room, plan or "", ISO date)
Fields = dict[str, Any]


@dataclass
class Ids:
    """Channex ids of what the benchmark onboarded: properties, and (property, room, plan or
    "") for room types and rate plans."""

    properties: dict[str, str] = field(default_factory=dict)
    entities: dict[tuple[str, str, str], str] = field(default_factory=dict)


@dataclass
class Load:
    """What the load made: revisions in the sandbox, and the ARI the PMS asked for."""

    ari_from: date
    revisions: list[str] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)
    changes: dict[CellKey, Fields] = field(default_factory=dict)
    ari_posts: int = 0
    ari_items: int = 0

    @property
    def ari_to(self) -> date:
        return self.ari_from + timedelta(days=SPAN_DAYS - 1)

    def apply(self, prop: str, item: Fields) -> None:
        """What the PMS means by one item: its fields on each (weekday-filtered) date."""
        first, last = date.fromisoformat(item["date_from"]), date.fromisoformat(item["date_to"])
        fields = {k: v for k, v in item.items() if k not in TARGET_KEYS}
        plan = item.get("rate_plan_id", "")
        for n in range((last - first).days + 1):
            day = first + timedelta(days=n)
            if "days" not in item or WEEKDAYS[day.weekday()] in item["days"]:
                key = (prop, item["type"], item["room_type_id"], plan, day.isoformat())
                self.changes.setdefault(key, {}).update(fields)
        self.ari_items += 1


def random_item(
    rng: random.Random, start: date, rooms: tuple[str, ...], plans: tuple[str, ...]
) -> Fields:
    """One PMS change: availability, or a rate with some restrictions, over up to two weeks
    of the next SPAN_DAYS days, now and then on some weekdays only."""
    first = start + timedelta(days=rng.randrange(SPAN_DAYS))
    last = min(first + timedelta(days=rng.randrange(14)), start + timedelta(days=SPAN_DAYS - 1))
    item: Fields = {
        "room_type_id": rng.choice(rooms),
        "date_from": first.isoformat(),
        "date_to": last.isoformat(),
    }
    if rng.random() < 0.2:
        item["days"] = sorted(rng.sample(WEEKDAYS, rng.randint(1, 3)), key=WEEKDAYS.index)
    if rng.random() < 0.4:
        return {"type": "availability", **item, "availability": rng.randint(0, 9)}
    item |= {"type": "restrictions", "rate_plan_id": rng.choice(plans)}
    item["rate"] = f"{rng.randint(80, 200)}.00"
    if rng.random() < 0.3:
        item["min_stay_arrival"] = rng.randint(1, 4)
    if rng.random() < 0.2:
        item["stop_sell"] = rng.random() < 0.5
    return item


def _normal(fields: Fields) -> Fields:
    """Money compared as numbers ("120.00" = "120" = 120)."""
    return {k: Decimal(str(v)) if k == "rate" and v is not None else v for k, v in fields.items()}


async def get_json(client: httpx.AsyncClient, url: str, params: Fields | None = None) -> Any:
    response = await client.get(url, params=params)
    response.raise_for_status()
    return response.json()


@dataclass(frozen=True)
class AriCheck:
    cells: int  # desired cells compared
    differing: int  # desired cells the sandbox does not hold
    not_as_posted: int  # cells whose desired state is not what the PMS posted
    example: str | None = None


def _held(held: Fields, channex_id: str, kind: str, day: str) -> Fields:
    if kind == "availability":
        return {"availability": held["availability"].get(channex_id, {}).get(day)}
    cell: Fields = held["restrictions"].get(channex_id, {}).get(day) or {}
    return cell


async def check_ari(
    api: httpx.AsyncClient, tools: httpx.AsyncClient, ids: Ids, load: Load, props: tuple[str, ...]
) -> AriCheck:
    """Every desired cell of the ARI properties against the sandbox and the PMS's changes."""
    params = {"from": load.ari_from.isoformat(), "to": load.ari_to.isoformat()}
    cells, differing, not_as_posted, example, seen = 0, 0, 0, None, set()
    for prop in props:
        desired = (await get_json(api, f"/v1/properties/{prop}/ari", params))["cells"]
        held = (await get_json(tools, "/ari", {"property_id": ids.properties[prop]}))["data"]
        for cell in desired:
            room, plan = cell["room_type_id"], cell["rate_plan_id"] or ""
            key = (prop, cell["type"], room, plan, cell["date"])
            seen.add(key)
            cells += 1
            want = _normal(cell["desired"])
            actual = _normal(_held(held, ids.entities[(prop, room, plan)], cell["type"], key[4]))
            if any(actual.get(name) != value for name, value in want.items()):
                differing += 1
                example = example or f"{'/'.join(key)}: sandbox {actual}, desired {want}"
            not_as_posted += want != _normal(load.changes.get(key, {}))
    not_as_posted += len(set(load.changes) - seen)
    return AriCheck(cells, differing, not_as_posted, example)


async def unacked_in_channex(channex: httpx.AsyncClient) -> int:
    """Revisions in the sandbox's feed of unacknowledged revisions."""
    feed = await get_json(channex, "/booking_revisions/feed", {"pagination[limit]": 1})
    return int(feed["meta"]["total"])


@dataclass(frozen=True)
class Check:
    undelivered: int
    unacked: int
    ari: AriCheck

    def parts(self) -> dict[str, int]:
        return {
            "delivered": self.undelivered,
            "acked": self.unacked,
            "ari": self.ari.differing + self.ari.not_as_posted,
        }


async def check_all(clients: dict[str, httpx.AsyncClient], ids: Ids, load: Load,
                    receiver: PmsReceiver, props: tuple[str, ...]) -> Check:  # fmt: skip
    accepted = {r.revision_id for r in receiver.received if 200 <= r.status < 300}
    return Check(
        undelivered=sum(r not in accepted for r in load.revisions),
        unacked=await unacked_in_channex(clients["channex"]),
        ari=await check_ari(clients["api"], clients["tools"], ids, load, props),
    )


@dataclass
class Convergence:
    seconds: float | None  # None: not within the deadline
    last: Check | None
    settled_at: dict[str, float | None]  # when each part last reached 0
    error: str | None = None


async def converge(
    clients: dict[str, httpx.AsyncClient],
    ids: Ids,
    load: Load,
    receiver: PmsReceiver,
    props: tuple[str, ...],
    deadline: float,
) -> Convergence:
    """Poll until every revision is delivered and acked and the ARI is equal, or `deadline`
    seconds have passed."""
    began = time.monotonic()
    result = Convergence(None, None, {"delivered": None, "acked": None, "ari": None})
    while True:
        try:
            result.last, result.error = await check_all(clients, ids, load, receiver, props), None
        except (httpx.HTTPError, KeyError) as exc:
            result.last, result.error = None, f"{type(exc).__name__}: {exc}"
        now = time.monotonic() - began
        parts = result.last.parts() if result.last else dict.fromkeys(result.settled_at, 1)
        for part, left in parts.items():
            result.settled_at[part] = None if left else (result.settled_at[part] or now)
        if result.last is not None and not any(parts.values()):
            result.seconds = now
            return result
        if now > deadline:
            return result
        await asyncio.sleep(POLL_SECONDS)


@dataclass(frozen=True)
class Figures:
    """The benchmark's results, read once everything has settled (or the deadline passed)."""

    pms: Tally
    unacked: int
    ari: AriCheck
    rate_limited: int
    channex_requests: int
    webhooks_dropped: int
    webhook_attempts: int


async def measure(clients: dict[str, httpx.AsyncClient], ids: Ids, load: Load,
                  receiver: PmsReceiver, props: tuple[str, ...]) -> Figures:  # fmt: skip
    tools = clients["tools"]
    stats = (await get_json(tools, "/stats"))["data"]
    deliveries = (await get_json(tools, "/deliveries"))["data"]
    return Figures(
        pms=tally(receiver.received, load.revisions),
        unacked=await unacked_in_channex(clients["channex"]),
        ari=await check_ari(clients["api"], tools, ids, load, props),
        rate_limited=sum(c["rate_limited"] for c in stats.values()),
        channex_requests=sum(c["requests"] for c in stats.values()),
        webhooks_dropped=sum(d["status"] == "dropped" for d in deliveries),
        webhook_attempts=sum(d["status"] != "dropped" for d in deliveries),
    )


async def arq_locks(redis_url: str) -> tuple[int, float]:
    """arq's in-progress keys now, and the longest time one has left (seconds): the jobs of
    a killed worker stay locked until theirs expire. The sweep's (arq keeps a cron job's key
    60 s after each run, so that it runs once) are left out."""
    client = Redis.from_url(redis_url)
    try:
        keys = [
            key
            async for key in client.scan_iter(match="*in-progress*", count=1000)
            if b"sweep:" not in key
        ]
        ttls = [await client.pttl(key) for key in keys]
    finally:
        await client.aclose()
    return len(keys), max(ttls, default=0) / 1000
