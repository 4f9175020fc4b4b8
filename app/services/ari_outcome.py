"""Between stored cells and Channex values: to the compressor's form, and back from an answer.

Channex answers 200 and echoes each value it dropped in `meta.warnings` (channex-api.md §6.6);
`ari_wire.dropped_runs` says which runs of the message those values were. Every cell a dropped
run covered becomes a failed cell; everything else in the message was applied.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from app.channex.ari_wire import AriMessage, dropped_runs
from app.channex.schemas import AriResult
from app.domain.ari import AriRun, FieldValue, expand
from app.services.ari_mappings import Mappings

Key = tuple[int, date]  # (entity pk, date)
Fields = dict[str, Any]
DomainCells = dict[str, dict[date, dict[str, FieldValue]]]


def to_domain(
    cells: Mapping[Key, Fields], mappings: Mappings, endpoint: str
) -> tuple[DomainCells, dict[str, int]]:
    """Cells keyed by Channex id with hashable values, and the entity pk of each Channex id."""
    out: DomainCells = {}
    entity_of: dict[str, int] = {}
    # Cells with equal documents share one fields dict (ari_rows): convert each once, and share
    # the result likewise (the compressor only reads). By id: `cells` keeps them alive.
    converted: dict[int, dict[str, FieldValue]] = {}
    by_entity: dict[int, dict[date, dict[str, FieldValue]]] = {}
    for (entity, day), fields in cells.items():
        if (by_date := by_entity.get(entity)) is None:
            channex_id = mappings.channex_id(endpoint, entity)
            assert channex_id is not None  # the plan keeps mapped entities only
            entity_of[channex_id] = entity
            by_date = by_entity[entity] = out.setdefault(channex_id, {})
        if (domain := converted.get(id(fields))) is None:
            domain = converted[id(fields)] = {k: _hashable(v) for k, v in fields.items()}
        by_date[day] = domain
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
class MessageOutcome:
    sent: dict[Key, Fields]  # fields Channex applied, per cell
    failed: dict[Key, str]  # Channex's warning, per cell it dropped a value of


def message_outcome(
    result: AriResult,
    message: AriMessage,
    entity_of: Mapping[str, int],
    sending: dict[Key, Fields],
) -> MessageOutcome:
    """What one 200 means cell by cell: applied values and dropped ones. `sending` is what all
    the message's runs set (`run_cells` of them): applied as it is when none was dropped."""
    runs = message.runs
    rejected = dropped_runs(message, result)
    if not rejected:
        return MessageOutcome(sending, {})
    sent = run_cells((run for index, run in enumerate(runs) if index not in rejected), entity_of)
    failed = {
        (entity_of[runs[index].entity_id], day): text
        for index, text in rejected.items()
        for day in runs[index].covered_dates()
    }
    return MessageOutcome(sent, failed)


def run_cells(runs: Iterable[AriRun], entity_of: Mapping[str, int]) -> dict[Key, Fields]:
    """The fields runs set, per cell, in stored form."""
    return {
        (entity_of[cid], day): {k: _stored(v) for k, v in fields.items()}
        for cid, by_date in expand(runs).items()
        for day, fields in by_date.items()
    }
