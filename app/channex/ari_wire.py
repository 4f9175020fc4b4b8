"""ARI runs on the wire: Channex's value objects, packed into `{"values": [...]}` messages under
its 10 MB cap, and the warnings it answers with matched back to the runs they echo.

Each run becomes one value, checked by its write model and encoded once; a message's body is
those encodings joined, so its size is known exactly before it is sent and nothing is encoded
again on the way to the socket.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal

from pydantic import TypeAdapter

from app.channex.schemas import AriResult, AvailabilityValue, RestrictionValue
from app.domain.ari import WEEKDAYS, AriRun, FieldValue, Weekday

AriEndpoint = Literal["availability", "restrictions"]

# Keep each JSON message under 10 MB (channex-api.md §6.5); there is no cap on value count.
MAX_MESSAGE_BYTES = 10_000_000
# ARI writes are not entity-wrapped: `{"values":[` + `]}` around the values (§1.3, §6.1).
_OPEN, _CLOSE = b'{"values":[', b"]}"
_ENVELOPE_BYTES = len(_OPEN) + len(_CLOSE)
# What identifies a value in a warning's echo of it (§6.6).
_TARGET_KEYS = ("room_type_id", "rate_plan_id", "date_from", "date_to", "date", "days")
# Compact UTF-8 JSON, nulls left out: Channex rejects them (§6.3).
_AVAILABILITY = TypeAdapter(AvailabilityValue)
_RESTRICTION = TypeAdapter(RestrictionValue)


@dataclass(frozen=True, slots=True)
class AriMessage:
    """One ARI write as sent: its JSON body, and the runs its values encode, in that order."""

    endpoint: AriEndpoint
    property_id: str
    runs: tuple[AriRun, ...]
    body: bytes
    tenant: str | None = None  # whose budget it counts against (AriScope)


def ari_messages(
    endpoint: AriEndpoint,
    property_id: str,
    runs: Iterable[AriRun],
    *,
    max_bytes: int = MAX_MESSAGE_BYTES,
    tenant: str | None = None,
) -> list[AriMessage]:
    """The runs as the property's values, in order, in as few messages as fit in max_bytes."""
    encode = _availability_value if endpoint == "availability" else _restriction_value
    batches: list[tuple[list[AriRun], list[bytes]]] = []
    size = max_bytes  # forces a first message
    for run in runs:
        value = encode(run, property_id)
        if _ENVELOPE_BYTES + len(value) > max_bytes:
            raise ValueError(f"one ARI value is larger than {max_bytes} bytes")
        if size + 1 + len(value) > max_bytes:  # 1: the comma before it
            batches.append(([], []))
            size = _ENVELOPE_BYTES - 1  # a first value has no comma
        batches[-1][0].append(run)
        batches[-1][1].append(value)
        size += 1 + len(value)
    return [
        AriMessage(
            endpoint, property_id, tuple(carried), _OPEN + b",".join(values) + _CLOSE, tenant
        )
        for carried, values in batches
    ]


def _availability_value(run: AriRun, property_id: str) -> bytes:
    """A `POST /availability` value; that endpoint has no `days` filter (§6.2)."""
    fields = dict(run.fields)
    if run.days is not None or set(fields) != {"availability"}:
        raise ValueError(f"not an availability value: {run}")
    value = AvailabilityValue(
        property_id=property_id,
        room_type_id=run.entity_id,
        date_from=run.date_from,
        date_to=run.date_to,
        availability=_as_int(fields["availability"]),
    )
    return _AVAILABILITY.dump_json(value, exclude_none=True)


def _restriction_value(run: AriRun, property_id: str) -> bytes:
    """A `POST /restrictions` value: `days` Monday first, `rates` as occupancy objects (§6.3)."""
    attributes: dict[str, object] = {
        "property_id": property_id,
        "rate_plan_id": run.entity_id,
        "date_from": run.date_from,
        "date_to": run.date_to,
    }
    if run.days is not None:
        attributes["days"] = _ordered(run.days)
    attributes.update((name, _restriction_field(name, value)) for name, value in run.fields)
    # The write model forbids unknown fields and checks types; leaving out None drops no
    # field, because a run never holds None.
    value = RestrictionValue.model_validate(attributes)
    return _RESTRICTION.dump_json(value, exclude_none=True)


def _ordered(days: frozenset[Weekday]) -> list[Weekday]:
    return [day for day in WEEKDAYS if day in days]


def _restriction_field(name: str, value: FieldValue) -> object:
    if name == "rates":
        if not isinstance(value, tuple):
            raise ValueError(f"`rates` must be (occupancy, rate) pairs, got {value!r}")
        return [{"occupancy": occupancy, "rate": rate} for occupancy, rate in value]
    return value


def _as_int(value: FieldValue) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"availability must be an integer, got {value!r}")
    return value


def dropped_runs(message: AriMessage, result: AriResult) -> dict[int, str]:
    """Index in `message.runs` → Channex's warning, for each value it dropped; the others were
    applied (a 200 with warnings is a partial acceptance, §6.6)."""
    dropped: dict[int, str] = {}
    for warning in result.warnings:
        text = _warning_text(warning)
        for index in _matches(warning, message):
            dropped[index] = text
    return dropped


def _warning_text(warning: Mapping[str, object]) -> str:
    detail = warning.get("warning", warning)
    return detail if isinstance(detail, str) else json.dumps(detail, sort_keys=True, default=str)


def _matches(warning: Mapping[str, object], message: AriMessage) -> list[int]:
    """Indices of the values a warning echoes; by target and dates, else any overlapping value
    of its target (so a reformatted echo still fails the right cells, never others)."""
    target = {key: warning.get(key) for key in _TARGET_KEYS}
    runs = message.runs
    exact = [i for i, run in enumerate(runs) if _target(message.endpoint, run) == target]
    if exact:
        return exact
    entity = warning.get("room_type_id") or warning.get("rate_plan_id")
    first = _date(warning.get("date_from") or warning.get("date"))
    last = _date(warning.get("date_to") or warning.get("date"))
    return [
        i
        for i, run in enumerate(runs)
        if run.entity_id == entity
        and (first is None or run.date_to >= first)
        and (last is None or run.date_from <= last)
    ]


def _target(endpoint: AriEndpoint, run: AriRun) -> dict[str, object]:
    """The target keys of the value a run was sent as, as they appear in its JSON."""
    target: dict[str, object] = dict.fromkeys(_TARGET_KEYS)
    target["room_type_id" if endpoint == "availability" else "rate_plan_id"] = run.entity_id
    target["date_from"], target["date_to"] = run.date_from.isoformat(), run.date_to.isoformat()
    if run.days is not None:
        target["days"] = _ordered(run.days)
    return target


def _date(raw: object) -> date | None:
    try:
        return date.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        return None
