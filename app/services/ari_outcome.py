"""Between stored cells and Channex values: to the compressor's form, and back from an answer.

Channex answers 200 and echoes each value it dropped in `meta.warnings` with a `warning` map
(channex-api.md §6.6). A warning is matched to the value we sent by its target and dates, and
every cell that value covered becomes a failed cell; everything else in the message was applied.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from app.channex.schemas import AriResult
from app.domain.ari import AriRun, FieldValue, expand
from app.domain.ari_values import JsonDict
from app.services.ari_mappings import Mappings

Key = tuple[int, date]  # (entity pk, date)
Fields = dict[str, Any]
DomainCells = dict[str, dict[date, dict[str, FieldValue]]]
_TARGET_KEYS = ("room_type_id", "rate_plan_id", "date_from", "date_to", "date", "days")


def to_domain(
    cells: Mapping[Key, Fields], mappings: Mappings, endpoint: str
) -> tuple[DomainCells, dict[str, int]]:
    """Cells keyed by Channex id with hashable values, and the entity pk of each Channex id."""
    out: DomainCells = {}
    entity_of: dict[str, int] = {}
    for (entity, day), fields in cells.items():
        channex_id = mappings.channex_id(endpoint, entity)
        assert channex_id is not None  # the plan keeps mapped entities only
        entity_of[channex_id] = entity
        out.setdefault(channex_id, {})[day] = {k: _hashable(v) for k, v in fields.items()}
    return out, entity_of


def _hashable(value: Any) -> FieldValue:
    if isinstance(value, list):  # per-person `rates`: [[occupancy, rate], ...]
        return tuple((int(occupancy), str(rate)) for occupancy, rate in value)
    result: FieldValue = value
    return result


def _stored(value: FieldValue) -> Any:
    if isinstance(value, tuple):
        return [[occupancy, rate] for occupancy, rate in value]
    return value


@dataclass(frozen=True)
class ChunkOutcome:
    sent: dict[Key, Fields]  # fields Channex applied, per cell
    failed: dict[Key, str]  # Channex's warning, per cell it dropped a value of


def chunk_outcome(
    result: AriResult,
    chunk: Sequence[JsonDict],
    runs: Sequence[AriRun],
    entity_of: Mapping[str, int],
) -> ChunkOutcome:
    """What one 200 means cell by cell: applied values and dropped ones."""
    rejected: dict[int, str] = {}
    for warning in result.warnings:
        text = _warning_text(warning)
        for index in _matches(warning, chunk, runs):
            rejected[index] = text
    applied = expand(run for index, run in enumerate(runs) if index not in rejected)
    sent = {
        (entity_of[cid], day): {k: _stored(v) for k, v in fields.items()}
        for cid, by_date in applied.items()
        for day, fields in by_date.items()
    }
    failed = {
        (entity_of[runs[index].entity_id], day): text
        for index, text in rejected.items()
        for day in runs[index].covered_dates()
    }
    return ChunkOutcome(sent, failed)


def _warning_text(warning: Mapping[str, Any]) -> str:
    detail = warning.get("warning", warning)
    return detail if isinstance(detail, str) else json.dumps(detail, sort_keys=True, default=str)


def _matches(
    warning: Mapping[str, Any], chunk: Sequence[JsonDict], runs: Sequence[AriRun]
) -> Iterable[int]:
    """Indices of the values a warning echoes; by target and dates, else any overlapping value
    of its target (so a reformatted echo still fails the right cells, never others)."""
    target = {k: warning.get(k) for k in _TARGET_KEYS}
    exact = [i for i, v in enumerate(chunk) if {k: v.get(k) for k in _TARGET_KEYS} == target]
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


def _date(raw: object) -> date | None:
    try:
        return date.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        return None
