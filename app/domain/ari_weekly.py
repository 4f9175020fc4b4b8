"""Weekday patterns: a value repeating on some weekdays over some weeks as one `days`-filtered
stroke, with an optional base under it and exceptions over it.

A season's weekend price is one stroke over the whole season with `days` Friday and Saturday,
where plain runs need one stroke per weekend. `paint_weekly_variants` offers `paint` these
layouts as candidates; `week_runs` and `weekday_strokes` also find weekday patterns of presence
for `paint_dates`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Generic

from app.domain.ari_strokes import WEEKDAYS, Stroke, V, Weekday, canonical_days, runs_of

# A weekday run this short (in weeks) between two equal runs is painted over, then fixed later.
SMOOTH_WEEKS = 2

WeekRuns = list[tuple[int, int, int, V]]


def paint_weekly_variants(start: date, values: Sequence[V], layer: int) -> list[list[Stroke[V]]]:
    """Weekly layouts of `values` from `start`: with and without a base, plain and smoothed."""
    base = Counter(values).most_common(1)[0][0]
    plain_runs = week_runs(values)
    smoothed = _smoothed(values, plain_runs)
    # Smoothing often changes nothing (short stretches): its variants would repeat the others.
    smooth_runs = plain_runs if smoothed == values else week_runs(smoothed)
    variants: list[list[Stroke[V]]] = []
    for chosen_base in (None, base):
        plain = _paint_weekly(start, values, values, plain_runs, chosen_base, layer)
        if smooth_runs is plain_runs:
            variants += [plain, plain]
        else:
            smooth = _paint_weekly(start, values, smoothed, smooth_runs, chosen_base, layer)
            variants += [plain, smooth]
    return variants


def week_runs(values: Sequence[V]) -> WeekRuns[V]:
    """Each weekday's runs of equal values as (first index, last index, offset, value), in order
    of first index: a run over weeks w0..w1 of offset o spans indices o + 7*w0 .. o + 7*w1."""
    return sorted(
        (offset + 7 * first, offset + 7 * last, offset, value)
        for offset in range(min(7, len(values)))
        for first, last, value in runs_of(values[offset::7])
    )


def _paint_weekly(
    start: date,
    values: Sequence[V],
    painted: Sequence[V],
    runs: WeekRuns[V],
    base: V | None,
    layer: int,
) -> list[Stroke[V]]:
    """Optional base, then one `days`-filtered stroke per weekly pattern of `painted` (values,
    maybe smoothed), then exceptions where `painted` differs from `values`."""
    strokes: list[Stroke[V]] = []
    if base is not None:
        end = start + timedelta(days=len(values) - 1)
        strokes.append(Stroke(layer, start, end, None, base))
        layer += 1
    strokes.extend(weekday_strokes(start, len(values), runs, base, layer))
    if painted is not values:
        exceptions = [i for i, value in enumerate(values) if painted[i] != value]
        strokes.extend(_paint_indices(start, values, exceptions, layer + 1))
    return strokes


def _smoothed(values: Sequence[V], runs: WeekRuns[V]) -> Sequence[V]:
    """Per weekday, short runs between two equal runs take their neighbours' value (`values`
    itself when no run is that short)."""
    by_offset: list[list[tuple[int, int, int, V]]] = [[] for _ in range(7)]
    for run in runs:
        by_offset[run[2]].append(run)
    smoothed: list[V] | None = None
    for offset_runs in by_offset:
        for before, (first, last, _, _), after in zip(
            offset_runs, offset_runs[1:], offset_runs[2:], strict=False
        ):
            if before[3] == after[3] and last - first < 7 * SMOOTH_WEEKS:
                if smoothed is None:
                    smoothed = list(values)
                for index in range(first, last + 1, 7):
                    smoothed[index] = before[3]
    return values if smoothed is None else smoothed


@dataclass(slots=True)
class _Pattern(Generic[V]):
    """Weekday runs of one value that one `days`-filtered stroke can paint together."""

    value: V
    first: int
    last: int
    low: int  # the stroke may start from here without reaching another date of its weekdays
    high: int  # ... and may end here
    offsets: set[int] = field(default_factory=set)

    def absorb(self, first: int, last: int, low: int, high: int, offset: int) -> bool:
        """Take in one weekday run if a single stroke can still paint exactly all runs."""
        low, high = max(self.low, low), min(self.high, high)
        first, last = min(self.first, first), max(self.last, last)
        if low > first or last > high:
            return False
        self.low, self.high, self.first, self.last = low, high, first, last
        self.offsets.add(offset)
        return True


def weekday_strokes(
    start: date, n: int, runs: WeekRuns[V], skip: V | None, layer: int
) -> list[Stroke[V]]:
    """Join equal weekday runs (from `week_runs`) covering the same weeks into one stroke."""
    patterns: dict[V, list[_Pattern[V]]] = {}
    for first, last, offset, value in runs:
        if skip is not None and value == skip:
            continue
        # A neighbouring date of the same weekday is 7 days away: the stroke may reach 6 days.
        low, high = max(first - 6, 0), min(last + 6, n - 1)
        candidates = patterns.setdefault(value, [])
        for pattern in candidates:
            if pattern.absorb(first, last, low, high, offset):
                break
        else:
            candidates.append(_Pattern(value, first, last, low, high, {offset}))
    names = [WEEKDAYS[(start.weekday() + offset) % 7] for offset in range(7)]
    return [
        _pattern_stroke(start, pattern, names, layer)
        for value_patterns in patterns.values()
        for pattern in value_patterns
    ]


def _pattern_stroke(
    start: date, pattern: _Pattern[V], names: Sequence[Weekday], layer: int
) -> Stroke[V]:
    date_from = start + timedelta(days=pattern.first)
    date_to = start + timedelta(days=pattern.last)
    days = frozenset(names[offset] for offset in pattern.offsets)
    return Stroke(
        layer, date_from, date_to, canonical_days(date_from, date_to, days), pattern.value
    )


def _paint_indices(
    start: date, values: Sequence[V], indices: list[int], layer: int
) -> list[Stroke[V]]:
    """Runs of consecutive given indices with equal values, as plain strokes."""
    strokes: list[Stroke[V]] = []
    for index in indices:
        day = start + timedelta(days=index)
        last = strokes[-1] if strokes else None
        if (
            last is not None
            and last.date_to == day - timedelta(days=1)
            and last.value == values[index]
        ):
            strokes[-1] = Stroke(layer, last.date_from, day, None, last.value)
        else:
            strokes.append(Stroke(layer, day, day, None, values[index]))
    return strokes
