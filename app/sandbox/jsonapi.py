"""Channex's JSON:API-like envelope: items, pages, filters, write wrappers (§1.3, §1.5)."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from app.sandbox.errors import bad_request, validation_error

Json = dict[str, Any]
DEFAULT_LIMIT = 10
MAX_LIMIT = 100


def item(kind: str, id_: str, attributes: Json, relationships: Json | None = None) -> Json:
    """One `data` item; `attributes` repeats the id as Channex does."""
    result: Json = {"type": kind, "id": id_, "attributes": {"id": id_, **attributes}}
    if relationships is not None:
        result["relationships"] = relationships
    return result


def ref(kind: str, id_: str, **attributes: Any) -> Json:
    """A relationship item, with inline attributes when given (e.g. a group's title)."""
    result: Json = {"type": kind, "id": id_}
    if attributes:
        result["attributes"] = {"id": id_, **attributes}
    return result


def success() -> Json:
    return {"meta": {"message": "Success"}}


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise validation_error({name: ["is invalid"]}) from None


def page(request: Request, items: list[Json]) -> Json:
    """A page of `items`: 10 unless `pagination[limit]` says otherwise (max 100, §1.5)."""
    number = _int_param(request, "pagination[page]", 1)
    limit = _int_param(request, "pagination[limit]", DEFAULT_LIMIT)
    if limit > MAX_LIMIT:
        raise bad_request(f"pagination[limit] must be less than or equal to {MAX_LIMIT}")
    if number < 1 or limit < 1:
        bad = "pagination[page]" if number < 1 else "pagination[limit]"
        raise validation_error({bad: ["must be greater than or equal to 1"]})
    start = (number - 1) * limit
    return {
        "data": items[start : start + limit],
        "meta": {"page": number, "limit": limit, "total": len(items)},
    }


def filter_values(request: Request, field: str) -> list[str] | None:
    """`filter[field]=a,b` as a list (comma list = "in"), or None when absent."""
    raw = request.query_params.get(f"filter[{field}]")
    if raw is None:
        return None
    return [part for part in raw.split(",") if part]


def unwrap(body: Any, key: str) -> Json:
    """The attributes inside a write wrapper such as `{"room_type": {...}}`."""
    inner = body.get(key) if isinstance(body, dict) else None
    if not isinstance(inner, dict):
        raise bad_request(f"{key} is required")
    return inner
