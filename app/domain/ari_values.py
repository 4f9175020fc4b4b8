"""Compressed runs as Channex ARI value objects, and messages cut under Channex's size cap."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from app.channex.schemas import AvailabilityValue, RestrictionValue
from app.domain.ari import WEEKDAYS, AriRun, FieldValue

JsonDict = dict[str, object]

# Keep each JSON message under 10 MB (channex-api.md §6.5); there is no cap on value count.
MAX_MESSAGE_BYTES = 10_000_000
# `{"values":[` + `]}` around the comma-separated values (channex-api.md §6.1).
_ENVELOPE_BYTES = len(b'{"values":[]}')


def availability_values(runs: Iterable[AriRun], property_id: str) -> list[JsonDict]:
    """`POST /availability` values; that endpoint has no `days` filter (channex-api.md §6.2)."""
    values: list[JsonDict] = []
    for run in runs:
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
        values.append(value.payload())
    return values


def restriction_values(runs: Iterable[AriRun], property_id: str) -> list[JsonDict]:
    """`POST /restrictions` values: `days` in Monday-first order, `rates` as occupancy objects."""
    values: list[JsonDict] = []
    for run in runs:
        attributes: JsonDict = {
            "property_id": property_id,
            "rate_plan_id": run.entity_id,
            "date_from": run.date_from,
            "date_to": run.date_to,
        }
        if run.days is not None:
            attributes["days"] = [day for day in WEEKDAYS if day in run.days]
        attributes.update((name, _restriction_field(name, value)) for name, value in run.fields)
        # The write model forbids unknown fields and checks types; payload() drops no field
        # because a run never holds None.
        values.append(RestrictionValue.model_validate(attributes).payload())
    return values


def split_by_size(
    values: Sequence[JsonDict], max_bytes: int = MAX_MESSAGE_BYTES
) -> list[list[JsonDict]]:
    """Values in order, cut into as few `{"values": [...]}` bodies as fit under max_bytes each."""
    chunks: list[list[JsonDict]] = []
    size = max_bytes  # forces a first chunk
    for value in values:
        value_bytes = len(_dump(value)) + 1  # the separating comma, counted once too many
        if _ENVELOPE_BYTES + value_bytes - 1 > max_bytes:
            raise ValueError(f"one ARI value is larger than {max_bytes} bytes")
        if size + value_bytes > max_bytes:
            chunks.append([])
            size = _ENVELOPE_BYTES - 1
        chunks[-1].append(value)
        size += value_bytes
    return chunks


def message_bytes(values: Sequence[JsonDict]) -> int:
    """Size of the body `{"values": values}` as the HTTP client sends it."""
    return len(_dump({"values": list(values)}))


def _dump(value: object) -> bytes:
    # Same settings as httpx's `json=`: compact, UTF-8.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


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
