"""Builders of Channex JSON:API items and paged responses for respx routes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx


def paged(
    items: list[dict[str, Any]], *, total: int | None = None
) -> Callable[[httpx.Request], httpx.Response]:
    """A respx side effect serving `items` by `pagination[page]` / `pagination[limit]`."""

    def respond(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["pagination[page]"])
        limit = int(request.url.params["pagination[limit]"])
        meta: dict[str, Any] = {"page": page, "limit": limit}
        if total is not None:
            meta["total"] = total
        chunk = items[(page - 1) * limit : page * limit]
        return httpx.Response(200, json={"data": chunk, "meta": meta})

    return respond


def sent_json(request: httpx.Request) -> Any:
    """The JSON body a request carried."""
    return json.loads(request.content)


def has_null(value: Any) -> bool:
    """Whether a JSON value holds a null anywhere (Channex rejects them, §6.3)."""
    if value is None:
        return True
    if isinstance(value, dict):
        return any(has_null(v) for v in value.values())
    if isinstance(value, list):
        return any(has_null(v) for v in value)
    return False
