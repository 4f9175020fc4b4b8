"""The painter's primitives, on literals and against their plain definitions."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from app.domain.ari_strokes import (
    ROTATIONS,
    WEEKDAYS,
    Weekday,
    canonical_mask,
    covered_dates,
    days_of,
    runs_of,
)


def test_runs_of_gives_each_maximal_run_with_its_bounds() -> None:
    assert runs_of([]) == []
    assert runs_of(["a"]) == [(0, 0, "a")]
    assert runs_of(["a", "a", "b", "a", "a", "a"]) == [(0, 1, "a"), (2, 2, "b"), (3, 5, "a")]


def test_covered_dates_keeps_only_the_filter_s_weekdays() -> None:
    monday = date(2031, 1, 6)
    weekend = frozenset[Weekday]({"sa", "su"})
    assert list(covered_dates(monday, monday + timedelta(days=13), weekend)) == [
        date(2031, 1, 11), date(2031, 1, 12), date(2031, 1, 18), date(2031, 1, 19)
    ]  # fmt: skip
    assert list(covered_dates(monday, monday, weekend)) == []
    assert list(covered_dates(monday, monday + timedelta(days=2), None)) == [
        monday, monday + timedelta(days=1), monday + timedelta(days=2)
    ]  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2040, 1, 1)),
    length=st.integers(0, 40),
    days=st.none() | st.frozensets(st.sampled_from(WEEKDAYS)),
)
def test_covered_dates_matches_its_definition(
    start: date, length: int, days: frozenset[Weekday] | None
) -> None:
    end = start + timedelta(days=length)
    every = [start + timedelta(days=n) for n in range(length + 1)]
    expected = [d for d in every if days is None or WEEKDAYS[d.weekday()] in days]
    assert list(covered_dates(start, end, days)) == expected


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.sampled_from("abc"), max_size=30))
def test_runs_of_expands_back_to_the_values(values: list[str]) -> None:
    runs = runs_of(values)
    assert [v for first, last, v in runs for _ in range(first, last + 1)] == values
    assert all(a[2] != b[2] for a, b in pairwise(runs))  # maximal


def _weekdays_selected(weekday: int, length: int, mask: int) -> list[int]:
    """The offsets of `length` days from `weekday` that a mask keeps (0: every one)."""
    return [k for k in range(length) if not mask or mask >> (weekday + k) % 7 & 1]


@settings(max_examples=300, deadline=None)
@given(weekday=st.integers(0, 6), length=st.integers(1, 20), mask=st.integers(0, 127))
def test_a_canonical_mask_keeps_the_same_dates_and_is_none_when_it_keeps_all(
    weekday: int, length: int, mask: int
) -> None:
    kept = _weekdays_selected(weekday, length, mask)
    assume(kept)  # a stroke's filter always keeps some of its dates
    canonical = canonical_mask(weekday, length, mask)
    assert _weekdays_selected(weekday, length, canonical) == kept
    assert (canonical == 0) == (len(kept) == length)
    assert canonical_mask(weekday, length, canonical) == canonical  # one form per set


@settings(max_examples=200, deadline=None)
@given(weekday=st.integers(0, 6), mask=st.integers(1, 127))
def test_a_mask_found_from_a_monday_keeps_the_same_offsets_once_rotated(
    weekday: int, mask: int
) -> None:
    days = days_of(ROTATIONS[weekday][mask])
    assert days is not None
    from_monday = {k for k in range(7) if mask >> k & 1}
    assert days == {WEEKDAYS[(weekday + k) % 7] for k in from_monday}
