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
from collections.abc import Mapping, Sequence
from datetime import date, timedelta

from app.domain.ari_strokes import (
    ROTATIONS,
    WEEKDAYS,
    Mark,
    Stroke,
    V,
    Weekday,
    canonical_mask,
    covered_dates,
    days_mask,
    days_of,
    runs_of,
)
from app.domain.ari_weekly import paint_weekly_variants, week_runs, weekday_marks

# Deeper layering gains little on real calendars and each level costs one more pass.
MAX_LAYER = 6


def paint_dates(
    series: Sequence[tuple[date, V]], *, weekday_sets: bool, cache: PaintCache | None = None
) -> list[Stroke[V]]:
    """The fewest strokes found that give each (date, value) its value and touch no other date.

    The dates are cut into segments first, each the dates of a range (and of a `days` filter):
    consecutive dates, and with weekday sets also weekday patterns, so that a field sent only on
    Fridays and Saturdays is one filtered segment rather than one segment per weekend.
    """
    by_date = dict(series)
    dates = sorted(by_date)
    if not dates:
        return []
    cache = PaintCache() if cache is None else cache
    consecutive = _consecutive_segments(dates)
    candidates = [_paint_segments(by_date, consecutive, weekday_sets, cache)]
    # One stretch of consecutive dates is already its own best segment (full calendars).
    if weekday_sets and len(consecutive) > 1:
        patterns = _pattern_segments(dates)
        candidates.append(_paint_segments(by_date, patterns, weekday_sets, cache))
    return min(candidates, key=len)


Segment = tuple[date, date, frozenset[Weekday] | None]


def _consecutive_segments(dates: Sequence[date]) -> list[Segment]:
    segments: list[Segment] = []
    ordinals = [day.toordinal() for day in dates]
    first = 0
    for index in range(1, len(dates) + 1):
        if index == len(dates) or ordinals[index] != ordinals[index - 1] + 1:
            segments.append((dates[first], dates[index - 1], None))
            first = index
    return segments


def _pattern_segments(dates: Sequence[date]) -> list[Segment]:
    """Weekday patterns of presence: each segment's range and filter select only given dates."""
    present = set(dates)
    length = (dates[-1] - dates[0]).days + 1
    flags = [dates[0] + timedelta(days=i) in present for i in range(length)]
    marks = weekday_marks(dates[0].weekday(), length, week_runs(flags), False, 0)
    return [
        (dates[0] + timedelta(first), dates[0] + timedelta(last), days_of(mask))
        for _, first, last, mask, _ in marks
    ]


def _paint_segments(
    by_date: Mapping[date, V],
    segments: Sequence[Segment],
    weekday_sets: bool,
    cache: PaintCache,
) -> list[Stroke[V]]:
    strokes: list[Stroke[V]] = []
    for date_from, date_to, days in segments:
        # Dates the filter leaves out hold the previous value: painting them costs nothing
        # more than the selected dates' own runs, and masking then drops them again.
        selected = [by_date[day] for day in covered_dates(date_from, date_to, days)]
        values = _held_values(selected, date_from, date_to, days)
        weekday, mask = date_from.weekday(), days_mask(days)
        for mark in cache.marks(weekday, values, weekday_sets, 0):
            if (kept := _masked(weekday, mark, mask) if mask else mark) is not None:
                strokes.append(_stroke(date_from, kept))
    return strokes


def _held_values(
    selected: Sequence[V], date_from: date, date_to: date, days: frozenset[Weekday] | None
) -> list[V]:
    """One value per date of the range: each selected date's own, the others the last one's
    (a segment's range starts on a selected date)."""
    if days is None:
        return list(selected)
    wanted = [WEEKDAYS[(date_from.weekday() + offset) % 7] in days for offset in range(7)]
    values: list[V] = []
    remaining = iter(selected)
    for offset in range((date_to - date_from).days + 1):
        values.append(next(remaining) if wanted[offset % 7] else values[-1])
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
    on_base = _paint_on_base(values, runs, weekday_sets, layer, cache)
    # Every value needs a stroke of its own, so `distinct` strokes cannot be beaten, and
    # a base stroke spanning the whole wins the tie below: the weekly search cannot help.
    if len(on_base) == len(set(values)):
        return on_base
    candidates = [plain, on_base]
    if weekday_sets and len(values) > 7:
        candidates.extend(paint_weekly_variants(0, values, layer))
    # Ties go to a stroke over the whole span: other fields' strokes can share that value.
    whole = (layer, 0, len(values) - 1, 0)
    return min(candidates, key=lambda marks: (len(marks), marks[0][:4] != whole))


def _most_runs(values: Sequence[V], runs: list[tuple[int, int, V]]) -> V:
    """The value with the most runs (then the most dates): painting it first saves the most."""
    run_counts = Counter(value for _, _, value in runs)
    date_counts = Counter(values)
    return max(run_counts, key=lambda value: (run_counts[value], date_counts[value]))


def _paint_on_base(
    values: Sequence[V],
    runs: list[tuple[int, int, V]],
    weekday_sets: bool,
    layer: int,
    cache: PaintCache,
) -> list[Mark[V]]:
    """The value with the most runs over the whole span, then each stretch of other values
    (runs in a row that are not the base) painted on top of it."""
    base = _most_runs(values, runs)
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
