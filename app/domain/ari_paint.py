"""Painting one sequence of values over consecutive dates with few Channex ARI values.

Strokes (`ari_strokes`) are applied layer by layer, a later layer overwriting an earlier one:
Channex processes the values of a message in order, last wins (channex-api.md §6.3). Within one
layer the strokes of one sequence never touch the same date, so their order inside a layer does
not matter.

Every strategy below paints exactly the dates of the sequence with exactly their values; `paint`
keeps the one with the fewest strokes, and plain run-length encoding is always a candidate, so
the result is never worse than it. Weekday patterns are `ari_weekly`'s. `paint_dates` paints
dates with gaps: each segment of dates (consecutive, or one weekday pattern) is painted with
`paint`, then its strokes are cut back to the segment's dates, so no stroke reaches a date
outside the given ones.

The search runs on `Mark`s (day offsets and weekday masks, in the segment's own terms): dates
and filters are built only for the strokes kept, a few hundred of the tens of thousands of
candidates a full sync weighs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, timedelta
from itertools import compress as select
from itertools import repeat
from operator import ne, sub
from typing import cast

from app.domain.ari_strokes import (
    ROTATIONS,
    Mark,
    Stroke,
    V,
    Weekday,
    canonical_mask,
    days_of,
    runs_of,
)
from app.domain.ari_weekly import week_runs, weekday_marks, weekly_layouts

# Deeper layering gains little on real calendars and each level costs one more pass.
MAX_LAYER = 6


def paint_dates(
    dates: Sequence[date],
    values: Sequence[V],
    *,
    weekday_sets: bool,
    cache: PaintCache | None = None,
) -> list[Stroke[V]]:
    """The fewest strokes found that give values[i] to dates[i] (dates sorted, distinct) and
    touch no other date.

    The dates are cut into segments first, each the dates of a range (and of a `days` filter):
    consecutive dates, and with weekday sets also weekday patterns, so that a field sent only on
    Fridays and Saturdays is one filtered segment rather than one segment per weekend.
    """
    if not dates:
        return []
    cache = PaintCache() if cache is None else cache
    return cache.dated(dates, values, weekday_sets)


def _paint_dates(
    dates: Sequence[date], values: Sequence[V], weekday_sets: bool, cache: PaintCache
) -> list[Stroke[V]]:
    origin = dates[0].toordinal()
    offsets = [day.toordinal() - origin for day in dates]
    # By offset from the first date; None where no date is given.
    dense: list[V | None] = [None] * (offsets[-1] + 1)
    for offset, value in zip(offsets, values, strict=True):
        dense[offset] = value
    weekday = dates[0].weekday()
    consecutive = _consecutive_segments(offsets)
    candidates = [_paint_segments(dense, weekday, consecutive, weekday_sets, cache)]
    # One stretch of consecutive dates is already its own best segment (full calendars).
    if weekday_sets and len(consecutive) > 1:
        patterns = _pattern_segments(dense, weekday)
        candidates.append(_paint_segments(dense, weekday, patterns, weekday_sets, cache))
    return [_stroke(dates[0], mark) for mark in min(candidates, key=len)]


# First and last day offsets from the first date, and a weekday mask (0: every day).
Segment = tuple[int, int, int]


def _consecutive_segments(offsets: list[int]) -> list[Segment]:
    # Where a stretch starts, found in C: after each gap between given dates.
    gaps = map(ne, map(sub, offsets[1:], offsets), repeat(1))
    starts = [0, *select(range(1, len(offsets)), gaps)]
    ends = [*starts[1:], len(offsets)]
    return [(offsets[a], offsets[b - 1], 0) for a, b in zip(starts, ends, strict=True)]


def _pattern_segments(dense: Sequence[V | None], weekday: int) -> list[Segment]:
    """Weekday patterns of presence: each segment's range and filter select only given dates."""
    flags = [value is not None for value in dense]
    marks = weekday_marks(weekday, len(dense), week_runs(flags), False, 0)
    return [(first, last, mask) for _, first, last, mask, _ in marks]


def _paint_segments(
    dense: Sequence[V | None],
    weekday: int,
    segments: Sequence[Segment],
    weekday_sets: bool,
    cache: PaintCache,
) -> list[Mark[V]]:
    """Each segment painted, its marks cut back to its dates; offsets from the first date,
    which falls on `weekday`."""
    marks: list[Mark[V]] = []
    for first, last, mask in segments:
        values = _held_values(dense, weekday, first, last, mask)
        at = (weekday + first) % 7
        for mark in cache.marks(at, values, weekday_sets, 0, first):
            if (kept := _masked(weekday, mark, mask) if mask else mark) is not None:
                marks.append(kept)
    return marks


def _held_values(
    dense: Sequence[V | None], weekday: int, first: int, last: int, mask: int
) -> list[V]:
    """One value per date of the segment's range: each selected date's own, the others the
    last one's (a segment's range starts on a selected date). Dates the filter leaves out hold
    the previous value: painting them costs nothing more than the selected dates' own runs,
    and masking then drops them again."""
    if not mask:
        return cast(list[V], dense[first : last + 1])
    values: list[V] = []
    for offset in range(first, last + 1):
        value = dense[offset] if _on(weekday, offset, mask) else values[-1]
        values.append(cast(V, value))
    return values


def _masked(weekday: int, mark: Mark[V], days: int) -> Mark[V] | None:
    """The mark on its dates that the `days` mask selects; None when it selects none of them."""
    layer, first, last, mark_days, value = mark
    kept = days if not mark_days else days & mark_days
    low = next((o for o in range(first, min(first + 7, last + 1)) if _on(weekday, o, kept)), None)
    if low is None:
        return None
    high = next(o for o in range(last, low - 1, -1) if _on(weekday, o, kept))
    return layer, low, high, canonical_mask((weekday + low) % 7, high - low + 1, kept), value


def _on(weekday: int, offset: int, mask: int) -> bool:
    return bool(mask >> (weekday + offset) % 7 & 1)


def _stroke(start: date, mark: Mark[V]) -> Stroke[V]:
    layer, first, last, mask, value = mark
    return Stroke(layer, start + timedelta(first), start + timedelta(last), days_of(mask), value)


class PaintCache:
    """Marks already found, by the shape of the values painted: one compression's memo.

    Painting looks at values only through equality and the order in which they first appear,
    so values relabelled by first appearance (their shape) paint alike. A property's rate plans
    share seasons and weekend patterns at different prices: one search serves them all. The
    search is the same from any weekday up to its filters' rotation, so it runs as if from a
    Monday and is rotated to the start's weekday on the way out.
    """

    def __init__(self) -> None:
        self._found: dict[_ShapeKey, list[Mark[int]]] = {}
        self._dated: dict[_DatedKey, list[_DatedStroke]] = {}

    def dated(
        self, dates: Sequence[date], values: Sequence[V], weekday_sets: bool
    ) -> list[Stroke[V]]:
        """paint_dates, by the dates and the values' shape: other rate plans' fields are often
        on the same dates in the same shape (a constant maximum stay, closures alike)."""
        firsts: dict[V, int] = {}
        shape = tuple(map(firsts.setdefault, values, range(len(values))))
        key = (tuple(dates), shape, weekday_sets)
        found = self._dated.get(key)
        if found is None:
            strokes = _paint_dates(dates, values, weekday_sets, self)
            self._dated[key] = [
                (s.layer, s.date_from, s.date_to, s.days, firsts[s.value]) for s in strokes
            ]
            return strokes
        return [Stroke(at, a, b, days, values[i]) for at, a, b, days, i in found]

    def marks(
        self, weekday: int, values: Sequence[V], weekday_sets: bool, layer: int, shift: int = 0
    ) -> list[Mark[V]]:
        """The marks painting `values` from a start on `weekday`, their offsets `shift` later."""
        # A value's label is the index of its first appearance: relabelling in C.
        firsts: dict[V, int] = {}
        shape = tuple(map(firsts.setdefault, values, range(len(values))))
        key = (shape, weekday_sets, layer)
        found = self._found.get(key)
        rotate = ROTATIONS[weekday]
        if found is None:
            marks = _paint(values, weekday_sets, layer, self)
            self._found[key] = [(at, a, b, days, firsts[v]) for at, a, b, days, v in marks]
            return [(at, a + shift, b + shift, rotate[days], v) for at, a, b, days, v in marks]
        return [(at, a + shift, b + shift, rotate[days], values[i]) for at, a, b, days, i in found]


# (shape, weekday sets, layer) → marks from a Monday, with labels for values.
_ShapeKey = tuple[tuple[int, ...], bool, int]
# (dates, shape, weekday sets) → paint_dates' strokes, with labels for values.
_DatedKey = tuple[tuple[date, ...], tuple[int, ...], bool]
_DatedStroke = tuple[int, date, date, frozenset[Weekday] | None, int]


def paint(
    start: date,
    values: Sequence[V],
    *,
    weekday_sets: bool,
    layer: int = 0,
    cache: PaintCache | None = None,
) -> list[Stroke[V]]:
    """The fewest strokes found that give values[i] to start + i days (values never None)."""
    cache = PaintCache() if cache is None else cache
    return [
        _stroke(start, mark) for mark in cache.marks(start.weekday(), values, weekday_sets, layer)
    ]


def _paint(values: Sequence[V], weekday_sets: bool, layer: int, cache: PaintCache) -> list[Mark[V]]:
    """The search itself, from a Monday (see PaintCache)."""
    runs = runs_of(values)
    plain: list[Mark[V]] = [(layer, first, last, 0, value) for first, last, value in runs]
    if layer >= MAX_LAYER or len(runs) == 1:
        return plain
    counts = Counter(values)
    on_base = _paint_on_base(values, runs, counts, weekday_sets, layer, cache)
    # Every value needs a stroke of its own, so `distinct` strokes cannot be beaten, and
    # a base stroke spanning the whole wins the tie below: the weekly search cannot help.
    if len(on_base) == len(counts):
        return on_base
    # Ties go to a stroke over the whole span: other fields' strokes can share that value.
    whole = (layer, 0, len(values) - 1, 0)
    best = min(plain, on_base, key=lambda marks: (len(marks), marks[0][:4] != whole))
    if not weekday_sets or len(values) <= 7:
        return best
    best_key, kept = (len(best), best[0][:4] != whole), None
    for layout in weekly_layouts(values, counts.most_common(1)[0][0]):
        if (key := layout.key(0, len(values))) < best_key:  # ties keep the first
            best_key, kept = key, layout
    return best if kept is None else kept.marks(0, values, layer)


def _most_runs(runs: list[tuple[int, int, V]], counts: Counter[V]) -> V:
    """The value with the most runs (then the most dates): painting it first saves the most."""
    run_counts = Counter(value for _, _, value in runs)
    return max(run_counts, key=lambda value: (run_counts[value], counts[value]))


def _paint_on_base(
    values: Sequence[V],
    runs: list[tuple[int, int, V]],
    counts: Counter[V],
    weekday_sets: bool,
    layer: int,
    cache: PaintCache,
) -> list[Mark[V]]:
    """The value with the most runs over the whole span, then each stretch of other values
    (runs in a row that are not the base) painted on top of it."""
    base = _most_runs(runs, counts)
    marks: list[Mark[V]] = [(layer, 0, len(values) - 1, 0, base)]
    stretch: int | None = None
    for first, _, value in [*runs, (len(values), 0, base)]:
        if value != base:
            stretch = first if stretch is None else stretch
        elif stretch is not None:
            stretched = values[stretch:first]
            marks.extend(cache.marks(stretch % 7, stretched, weekday_sets, layer + 1, stretch))
            stretch = None
    return marks
