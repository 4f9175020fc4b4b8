"""The painter's two primitives, on literals and against their plain definitions."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.ari_strokes import WEEKDAYS, Weekday, covered_dates, runs_of


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
