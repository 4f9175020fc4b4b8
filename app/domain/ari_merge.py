"""Merging painted strokes: values of different fields on the same dates sent as one, and a
value carried by others of its layer when that sends fewer bytes.

Strokes are applied layer by layer, last wins (channex-api.md §6.3): a merge keeps each field's
strokes in their order, a carried value keeps its layer. Both see a stroke's dates through its
range and weekday mask, or as a set of ordinals when they must compare them exactly.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING

from app.domain.ari_strokes import ALL_DAYS, PRESENT, WEEKDAYS, Stroke, Weekday, covered_ordinals

if TYPE_CHECKING:
    from app.domain.ari import Fields, FieldValue

# Ids, dates and keys cost about this much in every value; only used to break ties.
VALUE_OVERHEAD_BYTES = 140


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


def merge(strokes: list[Stroke[Fields]]) -> list[Stroke[Fields]]:
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
        fields = sorted_fields(stroke.value + candidate.value)
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


def piggyback(strokes: list[Stroke[Fields]]) -> list[Stroke[Fields]]:
    """Drop a value whose dates are exactly those of values of other fields on its layer, and
    carry its fields on those instead, when that sends fewer bytes."""
    piggy = _Piggyback(strokes)
    for index in range(len(strokes)):
        guest = piggy.kept[index]
        if guest is None:
            continue
        hosts = piggy.hosts(index, guest.layer)
        if hosts and (len(hosts) - 1) * fields_bytes(guest) < VALUE_OVERHEAD_BYTES:
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
            fields = sorted_fields(host.value + carried.value)
            self.kept[index] = Stroke(host.layer, host.date_from, host.date_to, host.days, fields)
            self.names[index] |= self.names[guest]
        self.kept[guest] = None


def sorted_fields(fields: Iterable[tuple[str, FieldValue]]) -> Fields:
    # By name: names are distinct within a value (and merged values have disjoint names), so
    # comparing whole pairs never reaches the values, and stays in C.
    return tuple(sorted(fields))


def estimate_bytes(strokes: list[Stroke[Fields]]) -> int:
    """Rough JSON size, to prefer not resending fields when value counts tie."""
    total = 0
    for stroke in strokes:
        total += VALUE_OVERHEAD_BYTES + (0 if stroke.days is None else 10 + 5 * len(stroke.days))
        total += fields_bytes(stroke)
    return total


def fields_bytes(stroke: Stroke[Fields]) -> int:
    return value_bytes(stroke.value)


def value_bytes(fields: Fields) -> int:
    return sum(len(name) + len(str(value)) + 4 for name, value in fields)
