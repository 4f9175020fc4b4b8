"""ARI test support: a stateful fake of Channex's ARI endpoints and seeded mappings."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx

WEEKDAYS = ("mo", "tu", "we", "th", "fr", "sa", "su")
Json = dict[str, Any]


@dataclass
class FakeAri:
    """Channex's `/availability` and `/restrictions`: applies values in order, last wins (§6.3)."""

    requests: list[tuple[str, list[Json]]] = field(default_factory=list)
    availability: dict[tuple[str, date], int] = field(default_factory=dict)
    restrictions: dict[tuple[str, date], Json] = field(default_factory=dict)
    # Responses to give instead of processing, in order (429s, 500s...).
    script: list[httpx.Response] = field(default_factory=list)
    # A value → its warning map (the value is then dropped, §6.6), or None to accept it.
    reject: Callable[[Json], Json | None] | None = None
    # Runs when a write arrives, before it is applied (e.g. a PMS change during a push).
    during: Callable[[str], Awaitable[None]] | None = None
    # Runs when a read has been answered, before the answer leaves (e.g. a push meanwhile).
    after_read: Callable[[str], Awaitable[None]] | None = None

    def writes(self, endpoint: str) -> list[list[Json]]:
        return [values for name, values in self.requests if name == endpoint]

    async def handle(self, request: httpx.Request) -> httpx.Response:
        endpoint = request.url.path.rsplit("/", 1)[-1]
        if request.method == "GET":
            answer = self._read(request, endpoint)
            if self.after_read is not None:
                await self.after_read(endpoint)
            return answer
        values: list[Json] = json.loads(request.content)["values"]
        self.requests.append((endpoint, values))
        if self.during is not None:
            await self.during(endpoint)
        if self.script:
            return self.script.pop(0)
        warnings = []
        for value in values:
            problem = self.reject(value) if self.reject else None
            if problem is not None:
                warnings.append({**value, "warning": problem})
            else:
                self._apply(endpoint, value)
        data = [{"id": str(uuid.uuid4()), "type": "task"}] if len(warnings) < len(values) else []
        return httpx.Response(
            200, json={"data": data, "meta": {"message": "Success", "warnings": warnings}}
        )

    def _apply(self, endpoint: str, value: Json) -> None:
        first = date.fromisoformat(value.get("date_from") or value["date"])
        last = date.fromisoformat(value.get("date_to") or value["date"])
        days = value.get("days")
        day = first
        while day <= last:
            if days is None or WEEKDAYS[day.weekday()] in days:
                if endpoint == "availability":
                    self.availability[(value["room_type_id"], day)] = value["availability"]
                else:
                    fields = {k: v for k, v in value.items() if k not in _KEYS}
                    self.restrictions.setdefault((value["rate_plan_id"], day), {}).update(fields)
            day += timedelta(days=1)

    def _read(self, request: httpx.Request, endpoint: str) -> httpx.Response:
        first = date.fromisoformat(request.url.params["filter[date][gte]"])
        last = date.fromisoformat(request.url.params["filter[date][lte]"])
        data: dict[str, dict[str, Any]] = {}
        source: dict[Any, Any] = (
            self.availability if endpoint == "availability" else self.restrictions
        )
        for (entity, day), value in source.items():
            if first <= day <= last:
                data.setdefault(entity, {})[day.isoformat()] = value
        return httpx.Response(200, json={"data": data})


_KEYS = {"property_id", "rate_plan_id", "room_type_id", "date", "date_from", "date_to", "days"}
