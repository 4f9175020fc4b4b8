"""Weekday patterns: a value repeating on some weekdays over some weeks as one `days`-filtered
stroke, with an optional base under it and exceptions over it.

A season's weekend price is one stroke over the whole season with `days` Friday and Saturday,
where plain runs need one stroke per weekend. `weekly_layouts` offers `paint` these
layouts as candidates; `week_runs` and `weekday_marks` also find weekday patterns of presence
for `paint_dates`. Everything here is in a segment's own terms (`Mark`s: day offsets from its
start, weekday masks), as `ari_paint` searches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic

from app.domain.ari_strokes import ROTATIONS, Mark, V, canonical_mask, runs_of

# A weekday run this short (in weeks) between two equal runs is painted over, then fixed later.
SMOOTH_WEEKS = 2

WeekRuns = list[tuple[int, int, int, V]]


@dataclass(frozen=True, slots=True)
class WeeklyLayout(Generic[V]):
    """A weekly layout of some values, counted before it is built: `paint` weighs several and
    builds only the one it keeps. An optional base, one `days`-filtered mark per pattern but
    the base's, then the exceptions: where the values patterned (maybe smoothed) differ."""

    base: V | None
    patterns: Patterns[V]
    exceptions: list[int]
    exception_marks: int

    def key(self, weekday: int, n: int) -> tuple[int, bool]:
        """`paint`'s key: the number of marks, then whether the first is not a mark over the
        whole span."""
        count = self.exception_marks
        for value, value_patterns in self.patterns.items():
            if self.base is None or value != self.base:
                count += len(value_patterns)
        if self.base is not None:
            return count + 1, False
        first, last, _, _, offsets = next(iter(self.patterns.values()))[0]
        spans = first == 0 and last == n - 1 and not _pattern_days(weekday, 0, last, offsets)
        return count, not spans

    def marks(self, weekday: int, values: Sequence[V], layer: int) -> list[Mark[V]]:
        """The layout's marks from a start on `weekday`, from `layer` up."""
        marks: list[Mark[V]] = []
        if self.base is not None:
            marks.append((layer, 0, len(values) - 1, 0, self.base))
            layer += 1
        marks.extend(_pattern_marks(weekday, self.patterns, self.base, layer))
        if self.exceptions:
            marks.extend(_paint_indices(values, self.exceptions, layer + 1))
        return marks


def weekly_layouts(values: Sequence[V], base: V) -> list[WeeklyLayout[V]]:
    """Weekly layouts of `values`: without and with `base` (the most frequent value), plain
    and smoothed (a smoothing that changes nothing gives no layout of its own)."""
    n = len(values)
    plain_runs = week_runs(values)
    # The patterns of each value do not depend on the others': a base only leaves its own out.
    found: list[tuple[Patterns[V], list[int], int]] = [(_patterns(n, plain_runs), [], 0)]
    smoothed = _smoothed(values, plain_runs)
    if smoothed is not values:
        exceptions = [i for i, value in enumerate(values) if smoothed[i] != value]
        marks = len(_paint_indices(values, exceptions, 0))
        found.append((_patterns(n, week_runs(smoothed)), exceptions, marks))
    return [
        WeeklyLayout(chosen_base, patterns, exceptions, marks)
        for chosen_base in (None, base)
        for patterns, exceptions, marks in found
    ]


def week_runs(values: Sequence[V]) -> WeekRuns[V]:
    """Each weekday's runs of equal values as (first index, last index, offset, value), in order
    of first index: a run over weeks w0..w1 of offset o spans indices o + 7*w0 .. o + 7*w1."""
    return sorted(
        (offset + 7 * first, offset + 7 * last, offset, value)
        for offset in range(min(7, len(values)))
        for first, last, value in runs_of(values[offset::7])
    )


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


def weekday_marks(
    weekday: int, n: int, runs: WeekRuns[V], skip: V | None, layer: int
) -> list[Mark[V]]:
    """Join equal weekday runs (from `week_runs`) covering the same weeks into one mark."""
    return _pattern_marks(weekday, _patterns(n, runs), skip, layer)


# A value's patterns: [first, last, low, high, offsets] each (see _patterns).
Patterns = dict[V, list[list[int]]]


def _patterns(n: int, runs: WeekRuns[V]) -> Patterns[V]:
    """Each value's weekday runs joined into patterns that one stroke can paint.

    A pattern is [first, last, low, high, offsets]: the indices its runs span, how far one
    stroke may reach without touching another date of its weekdays (a neighbouring date of
    the same weekday is 7 days away: 6 days), and its offsets as a mask. A run joins the first
    pattern of its value that a single stroke can still paint exactly with it.
    """
    patterns: Patterns[V] = {}
    for first, last, offset, value in runs:
        low, high = max(first - 6, 0), min(last + 6, n - 1)
        candidates = patterns.get(value)
        if candidates is None:
            patterns[value] = [[first, last, low, high, 1 << offset]]
            continue
        for pattern in candidates:
            p_first, p_last, p_low, p_high, _ = pattern
            j_low = p_low if p_low > low else low
            j_high = p_high if p_high < high else high
            j_first = p_first if p_first < first else first
            j_last = p_last if p_last > last else last
            if j_low <= j_first and j_last <= j_high:
                pattern[:4] = j_first, j_last, j_low, j_high
                pattern[4] |= 1 << offset
                break
        else:
            candidates.append([first, last, low, high, 1 << offset])
    return patterns


def _pattern_marks(
    weekday: int, patterns: Patterns[V], skip: V | None, layer: int
) -> list[Mark[V]]:
    """One mark per pattern, those of `skip` left out, from a start on `weekday`."""
    return [
        (layer, first, last, _pattern_days(weekday, first, last, offsets), value)
        for value, value_patterns in patterns.items()
        if skip is None or value != skip
        for first, last, _, _, offsets in value_patterns
    ]


def _pattern_days(weekday: int, first: int, last: int, offsets: int) -> int:
    """The weekday mask of a pattern's offsets from a start on `weekday`, in canonical form."""
    days = ROTATIONS[weekday][offsets]
    return canonical_mask((weekday + first) % 7, last - first + 1, days)


def _paint_indices(values: Sequence[V], indices: list[int], layer: int) -> list[Mark[V]]:
    """Runs of consecutive given indices with equal values, as plain marks."""
    marks: list[Mark[V]] = []
    for index in indices:
        value = values[index]
        if marks and marks[-1][2] == index - 1 and marks[-1][4] == value:
            marks[-1] = (layer, marks[-1][1], index, 0, value)
        else:
            marks.append((layer, index, index, 0, value))
    return marks
