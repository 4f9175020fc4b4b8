"""A small stateful fake of Channex's onboarding endpoints, on respx, for API unit tests.

It answers like channex-api.md says (JSON:API items, 201 on create, `errors` objects, 10
items a page unless `pagination[limit]`) and records every request, so tests can assert
what was sent and that nothing was created twice. End-to-end tests use the sandbox instead.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import respx

BASE_URL = "https://channex.test/api/v1"
API_KEY = "channex-test-key"

Entity = dict[str, Any]

_TYPES = {
    "groups": "group",
    "properties": "property",
    "room_types": "room_type",
    "rate_plans": "rate_plan",
    "channels": "channel",
}


def _error(status: int, code: str, title: str, details: Any = None) -> httpx.Response:
    body: dict[str, Any] = {"code": code, "title": title}
    if details is not None:
        body["details"] = details
    return httpx.Response(status, json={"errors": body})


@dataclass
class FakeChannex:
    """In-memory Channex: `store[collection][id] = attributes`."""

    store: dict[str, dict[str, Entity]] = field(
        default_factory=lambda: {name: {} for name in _TYPES}
    )
    calls: list[httpx.Request] = field(default_factory=list)
    fail_next: list[httpx.Response] = field(default_factory=list)
    # ARI endpoints (`/availability`, `/restrictions`), answered by a test's own handler.
    ari: Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]] | None = None
    # `POST /auth/one_time_token` bodies' attributes with the token answered, in order.
    tokens: list[tuple[Entity, str]] = field(default_factory=list)

    def creates(self, collection: str) -> int:
        return sum(
            1 for r in self.calls if r.method == "POST" and r.url.path.endswith(f"/{collection}")
        )

    def add(self, collection: str, **attributes: Any) -> str:
        ident = str(uuid.uuid4())
        self.store[collection][ident] = {"id": ident, **attributes}
        return ident

    def handle(self, request: httpx.Request) -> httpx.Response | Awaitable[httpx.Response]:
        self.calls.append(request)
        if request.headers.get("user-api-key") != API_KEY:
            return _error(401, "unauthorized", "Unauthorized")
        if self.fail_next:
            return self.fail_next.pop(0)
        parts = request.url.path.removeprefix("/api/v1/").split("/")
        collection = parts[0]
        if collection in ("availability", "restrictions") and self.ari is not None:
            return self.ari(request)
        if parts == ["auth", "one_time_token"] and request.method == "POST":
            token = f"ott-{uuid.uuid4().hex}"
            self.tokens.append((json.loads(request.content)["one_time_token"], token))
            return httpx.Response(200, json={"data": {"token": token}})
        if collection not in _TYPES:
            return _error(404, "resource_not_found", "Resource Not Found")
        if len(parts) == 1:
            return self._collection(request, collection)
        return self._item(request, collection, parts[1])

    def _collection(self, request: httpx.Request, collection: str) -> httpx.Response:
        if request.method == "POST":
            attrs = json.loads(request.content)[_TYPES[collection]]
            if not attrs.get("title"):
                return _error(
                    422, "validation_error", "Validation Error", {"title": ["can't be blank"]}
                )
            ident = self.add(collection, **attrs)
            return httpx.Response(201, json={"data": self._render(collection, ident)})
        items = [
            self._render(collection, ident)
            for ident, attrs in self.store[collection].items()
            if self._matches(request, attrs)
        ]
        limit = int(request.url.params.get("pagination[limit]", 10))
        page = int(request.url.params.get("pagination[page]", 1))
        chunk = items[(page - 1) * limit : page * limit]
        meta = {"page": page, "limit": limit, "total": len(items)}
        return httpx.Response(200, json={"data": chunk, "meta": meta})

    def _item(self, request: httpx.Request, collection: str, ident: str) -> httpx.Response:
        if ident not in self.store[collection]:
            return _error(404, "resource_not_found", "Resource Not Found")
        if request.method == "PUT":
            attrs = json.loads(request.content)[_TYPES[collection]]
            self.store[collection][ident].update(attrs)
        elif request.method == "DELETE":
            del self.store[collection][ident]
            return httpx.Response(200, json={"meta": {"message": "Success"}})
        return httpx.Response(200, json={"data": self._render(collection, ident)})

    def _matches(self, request: httpx.Request, attrs: Entity) -> bool:
        for key, value in request.url.params.items():
            if key.startswith("filter[") and key != "filter[property_id]":
                name = key.removeprefix("filter[").removesuffix("]")
                if str(attrs.get(name)) != value:
                    return False
        wanted = request.url.params.get("filter[property_id]")
        if wanted is None:
            return True
        return attrs.get("property_id") == wanted or wanted in attrs.get("properties", [])

    def _render(self, collection: str, ident: str) -> Entity:
        attrs = dict(self.store[collection][ident])
        item: Entity = {"id": ident, "type": _TYPES[collection], "attributes": attrs}
        if collection == "properties" and attrs.get("group_id"):
            group = {"id": attrs["group_id"], "type": "group"}
            item["relationships"] = {"groups": {"data": [group]}}
        return item


@contextmanager
def fake_channex() -> Iterator[FakeChannex]:
    """Route every request to BASE_URL into a fresh FakeChannex."""
    fake = FakeChannex()
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        router.route().mock(side_effect=fake.handle)
        yield fake
