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


def canonical_days(
    date_from: date, date_to: date, days: frozenset[Weekday] | None
) -> frozenset[Weekday] | None:
    """The filter reduced to weekdays in the range; None when it would exclude nothing.

    One form per set of covered dates, so that values of other fields on the same dates are
    recognised as such and merged.
    """
    length = (date_to - date_from).days + 1
    present = frozenset(WEEKDAYS[(date_from.weekday() + k) % 7] for k in range(min(length, 7)))
    if days is None or present <= days:
        return None
    return days & present
