"""ARI compression: the cells to send for one endpoint, as few Channex values as possible.

Cells are sparse: entity id (room type or rate plan) → date → {field: value}, holding only what
must be sent. `compress` turns them into ordered `AriRun`s and `expand` is its inverse, the
reference for how Channex applies values: in order, last wins, each value setting only its
fields on its dates (channex-api.md §6.3). `expand(compress(cells)) == cells`, always.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar

from app.domain.ari_merge import (
    VALUE_OVERHEAD_BYTES,
    estimate_bytes,
    merge,
    piggyback,
    sorted_fields,
    value_bytes,
)
from app.domain.ari_paint import PaintCache, paint, paint_dates
from app.domain.ari_strokes import (
    WEEKDAYS,
    Stroke,
    Weekday,
    covered_dates,
    runs_of,
)

__all__ = [
    "WEEKDAYS",
    "AriRun",
    "Cells",
    "FieldValue",
    "Fields",
    "Weekday",
    "clip_cells",
    "compress",
    "compress_disjoint",
    "count_runs",
    "expand",
]

# Rates are decimal strings ("120.00", channex-api.md §6.3); per-person `rates` are
# (occupancy, rate) pairs, compared as one opaque value.
FieldValue = int | bool | str | tuple[tuple[int, str], ...]
Fields = tuple[tuple[str, FieldValue], ...]
Cells = Mapping[str, Mapping[date, Mapping[str, FieldValue]]]

W = TypeVar("W")


@dataclass(frozen=True, slots=True)
class AriRun:
    """One Channex value: `fields` on date_from..date_to (inclusive), only on `days` if given."""

    entity_id: str
    date_from: date
    date_to: date
    days: frozenset[Weekday] | None
    fields: Fields

    def covered_dates(self) -> Iterator[date]:
        """The dates this value sets, in order."""
        return covered_dates(self.date_from, self.date_to, self.days)


def expand(runs: Iterable[AriRun]) -> dict[str, dict[date, dict[str, FieldValue]]]:
    """What Channex holds after applying `runs` on an empty calendar: in order, last wins."""
    cells: dict[str, dict[date, dict[str, FieldValue]]] = {}
    for run in runs:
        by_date = cells.setdefault(run.entity_id, {})
        for day in run.covered_dates():
            by_date.setdefault(day, {}).update(run.fields)
    return cells


def clip_cells(
    cells: Cells, today: date, horizon_days: int
) -> dict[str, dict[date, dict[str, FieldValue]]]:
    """Cells from today to the property's horizon (state_length): Channex rejects past dates."""
    last = today + timedelta(days=horizon_days - 1)
    clipped = {
        entity_id: {day: dict(cell) for day, cell in by_date.items() if today <= day <= last}
        for entity_id, by_date in cells.items()
    }
    return {entity_id: by_date for entity_id, by_date in clipped.items() if by_date}


def compress(cells: Cells, *, weekday_sets: bool) -> list[AriRun]:
    """Few values that set exactly `cells`; `days` filters only with weekday_sets (restrictions)."""
    runs: list[AriRun] = []
    cache = PaintCache()  # per call: rate plans of one property share shapes
    for entity_id, by_date in cells.items():
        for stroke in _compress_entity(by_date, weekday_sets, cache):
            runs.append(
                AriRun(entity_id, stroke.date_from, stroke.date_to, stroke.days, stroke.value)
            )
    return runs


def compress_disjoint(cells: Cells) -> list[AriRun]:
    """Runs of consecutive dates with equal cells, none overlapping another: for availability,
    where Channex documents no order of application (only restrictions are "last wins",
    channex-api.md §6.2, §6.3), so no value may rely on a later one overriding it."""
    runs: list[AriRun] = []
    for entity_id, by_date in cells.items():
        for segment in _segments(_whole_cell_series(by_date)):
            for first, last, fields in runs_of([fields for _, fields in segment]):
                runs.append(AriRun(entity_id, segment[first][0], segment[last][0], None, fields))
    return runs


def count_runs(cells: Cells) -> int:
    """Plain run-length encoding's value count: consecutive dates with equal whole cells."""
    return sum(_count_series_runs(_whole_cell_series(by_date)) for by_date in cells.values())


def _count_series_runs(series: list[tuple[date, Fields]]) -> int:
    return _count_segment_runs(_segments(series))


def _count_segment_runs(segments: list[list[tuple[date, Fields]]]) -> int:
    return sum(len(runs_of([fields for _, fields in segment])) for segment in segments)


def _compress_entity(
    by_date: Mapping[date, Mapping[str, FieldValue]], weekday_sets: bool, cache: PaintCache
) -> list[Stroke[Fields]]:
    """The cheaper of painting each group of fields apart and painting whole cells."""
    series = _whole_cell_series(by_date)
    if not series:
        return []
    # Painting whole cells is never worse than runs of equal cells; painting fields apart
    # usually sends fewer bytes. Keep the smaller in bytes that stays within the runs' count.
    segments = _segments(series)
    limit = _count_segment_runs(segments)
    apart = piggyback(merge(_paint_field_groups(series, weekday_sets, cache)))
    if len(apart) <= limit and estimate_bytes(apart) < _least_bytes(segments):
        return sorted(apart, key=_stroke_order)  # whole cells cannot send fewer bytes
    candidates = [apart, merge(_paint_segments(segments, weekday_sets, cache))]
    eligible = [strokes for strokes in candidates if len(strokes) <= limit]
    best = min(eligible, key=lambda strokes: (estimate_bytes(strokes), len(strokes)))
    return sorted(best, key=_stroke_order)


def _least_bytes(segments: list[list[tuple[date, Fields]]]) -> int:
    """Fewer bytes than painting whole cells can send: each distinct cell of a segment is in
    one value of its own at least (strokes of whole cells never merge: in one segment they
    have the same fields, in two they have different dates)."""
    total = 0
    for segment in segments:
        distinct = {id(fields): fields for _, fields in segment}  # interned: equal is same
        total += sum(VALUE_OVERHEAD_BYTES + value_bytes(v) for v in distinct.values())
    return total


def _whole_cell_series(
    by_date: Mapping[date, Mapping[str, FieldValue]],
) -> list[tuple[date, Fields]]:
    """Non-empty cells by date, fields sorted by name; Channex rejects nulls (§6.3)."""
    series: list[tuple[date, Fields]] = []
    # Cells with equal values often share one dict (the push decodes each document once):
    # sort each once. By id: `by_date` keeps them alive. Equal cells, shared dict or not,
    # then share one tuple (interned), which lets _labelled_cells tell them apart by id.
    sorted_cells: dict[int, Fields] = {}
    interned: dict[Fields, Fields] = {}
    for day in sorted(by_date):
        cell = by_date[day]
        if (fields := sorted_cells.get(id(cell))) is None:
            fields = sorted_fields(cell.items())
            if None in cell.values():
                raise ValueError(f"null ARI value on {day}: Channex rejects nulls (§6.3)")
            fields = sorted_cells[id(cell)] = interned.setdefault(fields, fields)
        if fields:
            series.append((day, fields))
    return series


Columns = dict[str, tuple[list[date], list[FieldValue]]]


def _columns(series: list[tuple[date, Fields]]) -> Columns:
    """Each field's dates and values, in date order."""
    columns: Columns = {}
    for day, fields in series:
        for name, value in fields:
            if (column := columns.get(name)) is None:
                column = columns[name] = ([], [])
            column[0].append(day)
            column[1].append(value)
    return columns


def _field_groups(columns: Columns) -> list[tuple[str, ...]]:
    """Fields that always change together: same dates, values equal on the same dates."""
    groups: dict[tuple[tuple[date, ...], tuple[int, ...]], list[str]] = {}
    for name, (days, values) in columns.items():
        firsts: dict[FieldValue, int] = {}  # each value's first index: its shape, in C
        shape = tuple(map(firsts.setdefault, values, range(len(values))))
        groups.setdefault((tuple(days), shape), []).append(name)
    return sorted(tuple(sorted(names)) for names in groups.values())


def _paint_field_groups(
    series: list[tuple[date, Fields]], weekday_sets: bool, cache: PaintCache
) -> list[Stroke[Fields]]:
    """Each group of fields painted on its own dates, so a field changing alone is sent alone
    and a field present on some weekdays only is one filtered value."""
    strokes: list[Stroke[Fields]] = []
    columns = _columns(series)
    for names in _field_groups(columns):
        # The fields of a group share their dates: zip their columns, label each distinct
        # tuple of values, and paint the labels (see _labelled); a label's fields are sorted.
        days = columns[names[0]][0]
        rows = zip(*(columns[name][1] for name in names), strict=True)
        labelled, labels = _labelled(rows, len(days))
        fields_of = {label: tuple(zip(names, row, strict=True)) for label, row in labels.items()}
        painted = paint_dates(days, labelled, weekday_sets=weekday_sets, cache=cache)
        strokes.extend(_valued(painted, fields_of))
    return strokes


def _labelled(values: Iterable[W], count: int) -> tuple[list[int], dict[int, W]]:
    """Each of the `count` values as the index of its first appearance, and the values by it.

    Painting looks at values only through equality and the order in which they first appear
    (ari_paint's PaintCache relies on it too), so painting the labels finds the same strokes
    as painting the values, while hashing and comparing small ints instead of field tuples.
    """
    firsts: dict[W, int] = {}
    labelled = list(map(firsts.setdefault, values, range(count)))
    return labelled, {label: value for value, label in firsts.items()}


def _labelled_cells(cells: list[Fields]) -> tuple[list[int], dict[int, Fields]]:
    """_labelled for whole cells of one series: equal cells are one tuple (_whole_cell_series),
    so their ids label them, without hashing every field of every cell."""
    firsts: dict[int, int] = {}
    labelled = list(map(firsts.setdefault, map(id, cells), range(len(cells))))
    return labelled, {label: cells[label] for label in firsts.values()}


def _valued(strokes: list[Stroke[int]], values: Mapping[int, Fields]) -> Iterator[Stroke[Fields]]:
    for stroke in strokes:
        yield Stroke(
            stroke.layer, stroke.date_from, stroke.date_to, stroke.days, values[stroke.value]
        )


def _paint_segments(
    segments: list[list[tuple[date, Fields]]], weekday_sets: bool, cache: PaintCache
) -> list[Stroke[Fields]]:
    strokes: list[Stroke[Fields]] = []
    for segment in segments:
        labelled, values = _labelled_cells([fields for _, fields in segment])
        painted = paint(segment[0][0], labelled, weekday_sets=weekday_sets, cache=cache)
        strokes.extend(_valued(painted, values))
    return strokes


def _segments(series: list[tuple[date, Fields]]) -> list[list[tuple[date, Fields]]]:
    """Stretches of consecutive dates with the same field names: a stroke never leaves one."""
    segments: list[list[tuple[date, Fields]]] = []
    previous: tuple[int, tuple[str, ...]] | None = None
    # Equal cells share one fields tuple (_whole_cell_series): take each one's names once.
    names_of: dict[int, tuple[str, ...]] = {}
    for day, fields in series:
        if (names := names_of.get(id(fields))) is None:
            names = names_of[id(fields)] = tuple([name for name, _ in fields])
        current = (day.toordinal(), names)
        if previous is not None and (previous[0] + 1, previous[1]) == current:
            segments[-1].append((day, fields))
        else:
            segments.append([(day, fields)])
        previous = current
    return segments


def _stroke_order(stroke: Stroke[Fields]) -> tuple[int, date, date, tuple[int, ...]]:
    days = () if stroke.days is None else tuple(sorted(WEEKDAYS.index(d) for d in stroke.days))
    return stroke.layer, stroke.date_from, stroke.date_to, days
