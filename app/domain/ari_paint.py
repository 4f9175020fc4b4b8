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
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date, timedelta

from app.domain.ari_strokes import (
    WEEKDAYS,
    Stroke,
    V,
    Weekday,
    canonical_days,
    covered_dates,
    runs_of,
)
from app.domain.ari_weekly import paint_weekly_variants, week_runs, weekday_strokes

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
    strokes = weekday_strokes(dates[0], length, week_runs(flags), False, 0)
    return [(stroke.date_from, stroke.date_to, stroke.days) for stroke in strokes]


def _paint_segments(
    by_date: Mapping[date, V],
    segments: Sequence[Segment],
    weekday_sets: bool,
    cache: PaintCache | None,
) -> list[Stroke[V]]:
    strokes: list[Stroke[V]] = []
    for date_from, date_to, days in segments:
        # Dates the filter leaves out hold the previous value: painting them costs nothing
        # more than the selected dates' own runs, and masking then drops them again.
        selected = [by_date[day] for day in covered_dates(date_from, date_to, days)]
        values = _held_values(selected, date_from, date_to, days)
        for stroke in paint(date_from, values, weekday_sets=weekday_sets, cache=cache):
            if (masked := _masked(stroke, days)) is not None:
                strokes.append(masked)
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


def _masked(stroke: Stroke[V], days: frozenset[Weekday] | None) -> Stroke[V] | None:
    """The stroke on its dates that `days` selects; None when it selects none of them."""
    if days is None:
        return stroke
    kept = days if stroke.days is None else days & stroke.days
    covered = list(covered_dates(stroke.date_from, stroke.date_to, kept))
    if not covered:
        return None
    days_needed = canonical_days(covered[0], covered[-1], kept)
    return Stroke(stroke.layer, covered[0], covered[-1], days_needed, stroke.value)


class PaintCache:
    """Strokes already found, by the shape of the values painted: one compression's memo.

    Painting looks at values only through equality and the order in which they first appear,
    so values relabelled by first appearance (their shape) paint alike. A property's rate plans
    share seasons and weekend patterns at different prices: one search serves them all.
    """

    def __init__(self) -> None:
        self._found: dict[_ShapeKey, list[_ShapeStroke]] = {}

    def paint(
        self, start: date, values: Sequence[V], weekday_sets: bool, layer: int
    ) -> list[Stroke[V]]:
        labels: dict[V, int] = {}
        shape = tuple([labels.setdefault(value, len(labels)) for value in values])
        key = (start.weekday(), shape, weekday_sets, layer)
        found = self._found.get(key)
        if found is None:
            strokes = _paint(start, values, weekday_sets, layer, self)
            self._found[key] = [
                (s.layer, (s.date_from - start).days, (s.date_to - start).days, s.days,
                 labels[s.value])
                for s in strokes
            ]  # fmt: skip
            return strokes
        by_label = list(labels)
        return [
            Stroke(at, start + timedelta(first), start + timedelta(last), days, by_label[label])
            for at, first, last, days, label in found
        ]


# (weekday of the start, shape, weekday sets, layer) → strokes as (layer, first and last day
# offsets, days, label): the filters are the same for any start on the same weekday.
_ShapeKey = tuple[int, tuple[int, ...], bool, int]
_ShapeStroke = tuple[int, int, int, frozenset[Weekday] | None, int]


def paint(
    start: date,
    values: Sequence[V],
    *,
    weekday_sets: bool,
    layer: int = 0,
    cache: PaintCache | None = None,
) -> list[Stroke[V]]:
    """The fewest strokes found that give values[i] to start + i days (values never None)."""
    if cache is not None:
        return cache.paint(start, values, weekday_sets, layer)
    return _paint(start, values, weekday_sets, layer, None)


def _paint(
    start: date, values: Sequence[V], weekday_sets: bool, layer: int, cache: PaintCache | None
) -> list[Stroke[V]]:
    candidates = [_paint_runs(start, values, layer)]
    distinct = len(set(values))
    if layer < MAX_LAYER and distinct > 1:
        base = _most_runs(values)
        on_base = _paint_on_base(start, values, base, weekday_sets, layer, cache)
        # Every value needs a stroke of its own, so `distinct` strokes cannot be beaten, and
        # a base stroke spanning the whole wins the tie below: the weekly search cannot help.
        if len(on_base) == distinct:
            return on_base
        candidates.append(on_base)
        if weekday_sets and len(values) > 7:
            candidates.extend(paint_weekly_variants(start, values, layer))
    # Ties go to a stroke over the whole span: other fields' strokes can share that value.
    whole = Stroke(layer, start, start + timedelta(days=len(values) - 1), None, values[0])
    return min(candidates, key=lambda strokes: (len(strokes), not _spans(strokes[0], whole)))


def _spans(stroke: Stroke[V], whole: Stroke[V]) -> bool:
    """Whether `stroke` is a plain stroke over the whole span, at the span's first layer."""
    return (stroke.layer, stroke.date_from, stroke.date_to, stroke.days) == (
        whole.layer,
        whole.date_from,
        whole.date_to,
        None,
    )


def _paint_runs(start: date, values: Sequence[V], layer: int) -> list[Stroke[V]]:
    return [
        Stroke(layer, start + timedelta(days=first), start + timedelta(days=last), None, value)
        for first, last, value in runs_of(values)
    ]


def _most_runs(values: Sequence[V]) -> V:
    """The value with the most runs (then the most dates): painting it first saves the most."""
    run_counts = Counter(value for _, _, value in runs_of(values))
    date_counts = Counter(values)
    return max(run_counts, key=lambda value: (run_counts[value], date_counts[value]))


def _paint_on_base(
    start: date,
    values: Sequence[V],
    base: V,
    weekday_sets: bool,
    layer: int,
    cache: PaintCache | None,
) -> list[Stroke[V]]:
    """`base` over the whole span, then each stretch of other values painted on top of it."""
    end = start + timedelta(days=len(values) - 1)
    strokes = [Stroke(layer, start, end, None, base)]
    for first, last, differs in runs_of([value != base for value in values]):
        if differs:
            stretch = values[first : last + 1]
            at = start + timedelta(days=first)
            strokes.extend(
                paint(at, stretch, weekday_sets=weekday_sets, layer=layer + 1, cache=cache)
            )
    return strokes
