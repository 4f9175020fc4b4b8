"""ARI compression: the cells to send for one endpoint, as few Channex values as possible.

Cells are sparse: entity id (room type or rate plan) → date → {field: value}, holding only what
must be sent. `compress` turns them into ordered `AriRun`s and `expand` is its inverse, the
reference for how Channex applies values: in order, last wins, each value setting only its
fields on its dates (channex-api.md §6.3). `expand(compress(cells)) == cells`, always.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import TypeVar

from app.domain.ari_paint import PaintCache, paint, paint_dates
from app.domain.ari_strokes import (
    ALL_DAYS,
    PRESENT,
    WEEKDAYS,
    Stroke,
    Weekday,
    covered_dates,
    covered_ordinals,
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

# Ids, dates and keys cost about this much in every value; only used to break ties.
_VALUE_OVERHEAD_BYTES = 140


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
    apart = _piggyback(_merge(_paint_field_groups(series, weekday_sets, cache)))
    if len(apart) <= limit and _estimate_bytes(apart) < _least_bytes(segments):
        return sorted(apart, key=_stroke_order)  # whole cells cannot send fewer bytes
    candidates = [apart, _merge(_paint_segments(segments, weekday_sets, cache))]
    eligible = [strokes for strokes in candidates if len(strokes) <= limit]
    best = min(eligible, key=lambda strokes: (_estimate_bytes(strokes), len(strokes)))
    return sorted(best, key=_stroke_order)


def _least_bytes(segments: list[list[tuple[date, Fields]]]) -> int:
    """Fewer bytes than painting whole cells can send: each distinct cell of a segment is in
    one value of its own at least (strokes of whole cells never merge: in one segment they
    have the same fields, in two they have different dates)."""
    total = 0
    for segment in segments:
        distinct = {id(fields): fields for _, fields in segment}  # interned: equal is same
        total += sum(_VALUE_OVERHEAD_BYTES + _value_bytes(v) for v in distinct.values())
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
            fields = _sorted_fields(cell.items())
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


class _Dates:
    """Each stroke's dates as ordinals (cheaper to build and compare than dates), built when
    first asked for: most strokes are ruled out by layer, fields or bounds before."""

    def __init__(self, strokes: list[Stroke[Fields]]) -> None:
        self._strokes = strokes
        self._dates: list[frozenset[int] | None] = [None] * len(strokes)

    def __getitem__(self, index: int) -> frozenset[int]:
        if (dates := self._dates[index]) is None:
            stroke = self._strokes[index]
            dates = covered_ordinals(stroke.date_from, stroke.date_to, stroke.days)
            self._dates[index] = dates
        return dates


@dataclass(slots=True)
class _Merging:
    """Strokes being merged, with their dates and field names; a merged-away stroke is None."""

    strokes: list[Stroke[Fields] | None]
    spans: list[_Span]  # of the strokes as given: a merge keeps a stroke's dates
    names: list[frozenset[str]]
    by_name: dict[str, list[int]]  # the strokes setting each field (merged-away ones too)


# A stroke's dates as its first and last ordinals and a weekday mask (ari_strokes.DAY_SETS).
_Span = tuple[int, int, int]


def _span(stroke: Stroke[Fields]) -> _Span:
    days = ALL_DAYS if stroke.days is None else sum(1 << WEEKDAYS.index(d) for d in stroke.days)
    return stroke.date_from.toordinal(), stroke.date_to.toordinal(), days


def _meet(span: _Span, other: _Span) -> bool:
    """Whether two strokes set a date in common, without listing their dates: some date of the
    ranges' overlap falls on a weekday of both (a week or more of overlap holds every one)."""
    first, last = max(span[0], other[0]), min(span[1], other[1])
    if first > last:
        return False
    weekday = (first - 1) % 7  # ordinal 1 (0001-01-01) is a Monday
    return bool(span[2] & other[2] & PRESENT[weekday][min(last - first + 1, 7)])


def _merge(strokes: list[Stroke[Fields]]) -> list[Stroke[Fields]]:
    """Strokes of different fields on the same dates become one value, at a layer where each
    field's strokes keep their order (so the merged value may move above or below others)."""
    names = [frozenset(name for name, _ in s.value) for s in strokes]
    by_name: dict[str, list[int]] = {}
    for index, stroke_names in enumerate(names):
        for name in stroke_names:
            by_name.setdefault(name, []).append(index)
    merging = _Merging(list(strokes), [_span(s) for s in strokes], names, by_name)
    same_dates: dict[tuple[date, date, frozenset[Weekday] | None], list[int]] = {}
    for index, stroke in enumerate(strokes):
        same_dates.setdefault((stroke.date_from, stroke.date_to, stroke.days), []).append(index)
    for indices in same_dates.values():
        for position, index in enumerate(indices):
            for other in indices[position + 1 :]:
                _merge_pair(merging, index, other)
    return [stroke for stroke in merging.strokes if stroke is not None]


def _merge_pair(merging: _Merging, index: int, other: int) -> None:
    """Fold `other` into `index` when their fields differ and some layer suits both."""
    stroke, candidate = merging.strokes[index], merging.strokes[other]
    if stroke is None or candidate is None:
        return
    if not merging.names[index].isdisjoint(merging.names[other]):
        return
    low, high = _layer_range(merging, index, stroke.layer)
    other_low, other_high = _layer_range(merging, other, candidate.layer)
    low, high = max(low, other_low), min(high, other_high)
    if low <= high:
        layer = max(low, min(high, max(stroke.layer, candidate.layer)))
        fields = _sorted_fields(stroke.value + candidate.value)
        merging.strokes[index] = replace(stroke, layer=layer, value=fields)
        merging.strokes[other] = None
        merging.names[index] = merging.names[index] | merging.names[other]
        for name in merging.names[other]:
            merging.by_name[name].append(index)


def _layer_range(merging: _Merging, index: int, layer: int) -> tuple[int, int]:
    """Layers a stroke may take without passing a stroke of any of its fields on its dates."""
    names = merging.names[index]
    low, high = 0, sys.maxsize  # no stroke of its fields above it: no upper limit
    others = {other for name in names for other in merging.by_name[name]}
    others.discard(index)
    for other in others:
        candidate = merging.strokes[other]
        if candidate is None or not _meet(merging.spans[index], merging.spans[other]):
            continue
        if candidate.layer < layer:
            low = max(low, candidate.layer + 1)
        else:
            high = min(high, candidate.layer - 1)
    return low, high


def _piggyback(strokes: list[Stroke[Fields]]) -> list[Stroke[Fields]]:
    """Drop a value whose dates are exactly those of values of other fields on its layer, and
    carry its fields on those instead, when that sends fewer bytes."""
    piggy = _Piggyback(strokes)
    for index in range(len(strokes)):
        guest = piggy.kept[index]
        if guest is None:
            continue
        hosts = piggy.hosts(index, guest.layer)
        if hosts and (len(hosts) - 1) * _fields_bytes(guest) < _VALUE_OVERHEAD_BYTES:
            piggy.carry(index, hosts)
    return [stroke for stroke in piggy.kept if stroke is not None]


class _Piggyback:
    """Strokes being piggybacked (a carried guest becomes None), with what `hosts` compares:
    their dates as ordinals, the bounds of those, their field names, the strokes by layer."""

    def __init__(self, strokes: list[Stroke[Fields]]) -> None:
        self.kept: list[Stroke[Fields] | None] = list(strokes)
        self.dates = _Dates(strokes)
        # A stroke's first and last dates are dates it sets (never a date its filter skips).
        self.bounds = [(s.date_from.toordinal(), s.date_to.toordinal()) for s in strokes]
        self.names = [frozenset(name for name, _ in s.value) for s in strokes]
        self.by_layer: dict[int, list[int]] = {}
        for index, stroke in enumerate(strokes):
            self.by_layer.setdefault(stroke.layer, []).append(index)

    def hosts(self, guest: int, layer: int) -> list[int]:
        """Strokes of other fields on the guest's layer, within its dates and covering them
        all (none when they do not cover them all)."""
        names, (first, last) = self.names[guest], self.bounds[guest]
        within = [
            index
            for index in self.by_layer[layer]
            if self.kept[index] is not None
            and first <= self.bounds[index][0]
            and self.bounds[index][1] <= last
            and names.isdisjoint(self.names[index])
        ]
        if not within:
            return []
        dates = self.dates[guest]
        hosts = [index for index in within if self.dates[index] <= dates]
        covered = frozenset[int]().union(*(self.dates[index] for index in hosts))
        return hosts if covered == dates else []

    def carry(self, guest: int, hosts: list[int]) -> None:
        """The guest's fields onto each host, and the guest dropped."""
        carried = self.kept[guest]
        assert carried is not None
        for index in hosts:
            host = self.kept[index]
            assert host is not None
            fields = _sorted_fields(host.value + carried.value)
            self.kept[index] = Stroke(host.layer, host.date_from, host.date_to, host.days, fields)
            self.names[index] |= self.names[guest]
        self.kept[guest] = None


def _sorted_fields(fields: Iterable[tuple[str, FieldValue]]) -> Fields:
    # By name: names are distinct within a value (and merged values have disjoint names), so
    # comparing whole pairs never reaches the values, and stays in C.
    return tuple(sorted(fields))


def _stroke_order(stroke: Stroke[Fields]) -> tuple[int, date, date, tuple[int, ...]]:
    days = () if stroke.days is None else tuple(sorted(WEEKDAYS.index(d) for d in stroke.days))
    return stroke.layer, stroke.date_from, stroke.date_to, days


def _estimate_bytes(strokes: list[Stroke[Fields]]) -> int:
    """Rough JSON size, to prefer not resending fields when value counts tie."""
    total = 0
    for stroke in strokes:
        total += _VALUE_OVERHEAD_BYTES + (0 if stroke.days is None else 10 + 5 * len(stroke.days))
        total += _fields_bytes(stroke)
    return total


def _fields_bytes(stroke: Stroke[Fields]) -> int:
    return _value_bytes(stroke.value)


def _value_bytes(fields: Fields) -> int:
    return sum(len(name) + len(str(value)) + 4 for name, value in fields)
