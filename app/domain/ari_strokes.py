"""Strokes and the calendar arithmetic under them: weekdays, covered dates, runs of values.

A *stroke* sets one value on a date range (only on its `days` weekdays when given), at a layer:
strokes are applied layer by layer, a later layer overwriting an earlier one, as Channex
processes the values of a message in order, last wins (channex-api.md §6.3).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import chain
from itertools import compress as select
from operator import ne
from typing import Generic, Literal, TypeVar

Weekday = Literal["mo", "tu", "we", "th", "fr", "sa", "su"]
WEEKDAYS: tuple[Weekday, ...] = ("mo", "tu", "we", "th", "fr", "sa", "su")

V = TypeVar("V", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Stroke(Generic[V]):
    """One value on date_from..date_to (inclusive), only on `days` when given, at `layer`."""

    layer: int
    date_from: date
    date_to: date
    days: frozenset[Weekday] | None
    value: V


# A stroke while painting, in its segment's own terms: (layer, first and last day offsets from
# the segment's start, weekday mask or 0 (see DAY_SETS), value). Dates are built only for the
# strokes kept.
Mark = tuple[int, int, int, int, V]


def covered_dates(
    date_from: date, date_to: date, days: frozenset[Weekday] | None
) -> Iterator[date]:
    """The dates a value sets: its range, only its weekdays when `days` is given."""
    # By ordinal: the compressor asks this millions of times for a full sync. Ordinal 1
    # (0001-01-01) is a Monday, so an ordinal's weekday is (ordinal - 1) % 7.
    first, last = date_from.toordinal(), date_to.toordinal()
    if days is None:
        return map(date.fromordinal, range(first, last + 1))
    wanted = {WEEKDAYS.index(day) for day in days}
    return map(date.fromordinal, (o for o in range(first, last + 1) if (o - 1) % 7 in wanted))


def covered_ordinals(
    date_from: date, date_to: date, days: frozenset[Weekday] | None
) -> frozenset[int]:
    """The ordinals of `covered_dates`, built in C: for comparing the dates of many strokes."""
    first, last = date_from.toordinal(), date_to.toordinal()
    if days is None:
        return frozenset(range(first, last + 1))
    # Each wanted weekday's ordinals are a range of step 7 from its first one.
    starts = (first + (WEEKDAYS.index(day) - (first - 1)) % 7 for day in days)
    return frozenset(chain.from_iterable(range(start, last + 1, 7) for start in starts))


def runs_of(values: Sequence[V]) -> list[tuple[int, int, V]]:
    """Maximal runs of equal values as (first index, last index, value)."""
    # Where each run starts, found in C (map/compress): the compressor calls this a lot.
    n = len(values)
    if n == 0:
        return []
    changed = map(ne, values[1:], values)
    starts = [0, *select(range(1, n), changed)]
    ends = [*starts[1:], n]
    return [(first, end - 1, values[first]) for first, end in zip(starts, ends, strict=True)]


# Weekday filters as 7-bit masks (bit k: WEEKDAYS[k]) while painting, 0 for no filter: an
# int is cheaper to build, combine and compare than a frozenset of names, millions of times.
DAY_SETS: tuple[frozenset[Weekday], ...] = tuple(
    frozenset(day for k, day in enumerate(WEEKDAYS) if mask >> k & 1) for mask in range(128)
)
ALL_DAYS = 127
# PRESENT[weekday][length]: the weekdays of `length` consecutive days from `weekday` (<= 7).
PRESENT: tuple[tuple[int, ...], ...] = tuple(
    tuple(sum(1 << (weekday + k) % 7 for k in range(length)) for length in range(8))
    for weekday in range(7)
)


# ROTATIONS[weekday][mask]: a mask found for a start on a Monday, for a start on `weekday`.
ROTATIONS: tuple[tuple[int, ...], ...] = tuple(
    tuple(((mask << weekday) | (mask >> (7 - weekday))) & 127 for mask in range(128))
    for weekday in range(7)
)


def days_of(mask: int) -> frozenset[Weekday] | None:
    """A mask as a filter: None for 0."""
    return DAY_SETS[mask] if mask else None


def canonical_mask(weekday: int, length: int, mask: int) -> int:
    """The filter reduced to the weekdays of `length` days from `weekday`; 0 when it would
    exclude nothing. One form per set of covered dates, so that values of other fields on the
    same dates are recognised as such and merged."""
    present = PRESENT[weekday][min(length, 7)]
    kept = mask & present
    return 0 if kept == present else kept
