"""Property-based tests: compression is exactly inverted by expansion, never worse than runs."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.ari import Cells, FieldValue, clip_cells, compress, count_runs, expand

SETTINGS = settings(max_examples=200, deadline=None)
START = date(2025, 3, 3)

FIELD_VALUES: dict[str, st.SearchStrategy[FieldValue]] = {
    "rate": st.sampled_from(["90.00", "100.00", "150.00"]),
    "min_stay_arrival": st.integers(1, 3),
    "stop_sell": st.booleans(),
    "rates": st.sampled_from([((1, "80.00"), (2, "100.00")), ((1, "90.00"), (2, "110.00"))]),
}


@st.composite
def random_cells(draw: st.DrawFn) -> dict[str, dict[date, dict[str, FieldValue]]]:
    """Sparse cells: gaps in dates, fields missing from some cells, few distinct values."""
    cells: dict[str, dict[date, dict[str, FieldValue]]] = {}
    for entity_id in draw(st.lists(st.sampled_from("abc"), unique=True, max_size=3)):
        offset = draw(st.integers(0, 6))
        days = draw(st.lists(st.integers(0, 45), unique=True, max_size=40))
        names = draw(st.lists(st.sampled_from(sorted(FIELD_VALUES)), unique=True, min_size=1))
        cells[entity_id] = {
            START + timedelta(days=offset + day): {
                name: draw(FIELD_VALUES[name])
                for name in draw(st.lists(st.sampled_from(names), unique=True, min_size=1))
            }
            for day in days
        }
    return cells


@st.composite
def seasonal_cells(draw: st.DrawFn) -> dict[str, dict[date, dict[str, FieldValue]]]:
    """Full calendars whose values follow weekday patterns per season, with exceptions."""
    length = draw(st.integers(1, 120))
    cuts = sorted(draw(st.lists(st.integers(1, max(1, length - 1)), max_size=4)))
    exceptions = draw(st.sets(st.integers(0, length - 1), max_size=6))
    tables = {
        name: draw(st.lists(st.lists(values, min_size=7, max_size=7), min_size=5, max_size=5))
        for name, values in FIELD_VALUES.items()
        if name != "rates"
    }
    start = START + timedelta(days=draw(st.integers(0, 6)))
    cells: dict[date, dict[str, FieldValue]] = {}
    for index in range(length):
        day = start + timedelta(days=index)
        season = sum(cut <= index for cut in cuts)
        cells[day] = {name: table[season][day.weekday()] for name, table in tables.items()}
        if index in exceptions:
            cells[day]["rate"] = "999.00"
    return {"rp": cells}


def _without_empty(cells: Cells) -> dict[str, dict[date, dict[str, FieldValue]]]:
    kept = {
        entity_id: {day: dict(cell) for day, cell in by_date.items() if cell}
        for entity_id, by_date in cells.items()
    }
    return {entity_id: by_date for entity_id, by_date in kept.items() if by_date}


@SETTINGS
@given(cells=st.one_of(random_cells(), seasonal_cells()), weekday_sets=st.booleans())
def test_expanding_the_compressed_runs_gives_back_exactly_the_cells(
    cells: Cells, weekday_sets: bool
) -> None:
    assert expand(compress(cells, weekday_sets=weekday_sets)) == _without_empty(cells)


@SETTINGS
@given(cells=st.one_of(random_cells(), seasonal_cells()), weekday_sets=st.booleans())
def test_compression_never_needs_more_values_than_runs_of_equal_cells(
    cells: Cells, weekday_sets: bool
) -> None:
    assert len(compress(cells, weekday_sets=weekday_sets)) <= count_runs(cells)


@SETTINGS
@given(cells=st.one_of(random_cells(), seasonal_cells()))
def test_runs_set_only_input_dates_never_null_and_never_empty(cells: Cells) -> None:
    for run in compress(cells, weekday_sets=True):
        covered = list(run.covered_dates())
        assert covered, run
        assert run.date_from == covered[0]
        assert run.date_to == covered[-1]
        assert all(day in cells[run.entity_id] for day in covered)
        assert run.fields
        assert all(value is not None for _, value in run.fields)
        # A weekday filter is sent only when it leaves out some date of the range.
        assert run.days is None or len(covered) < (run.date_to - run.date_from).days + 1


@SETTINGS
@given(cells=st.one_of(random_cells(), seasonal_cells()))
def test_no_weekday_filter_without_weekday_sets(cells: Cells) -> None:
    assert all(run.days is None for run in compress(cells, weekday_sets=False))


@SETTINGS
@given(cells=random_cells(), today_offset=st.integers(0, 30), horizon=st.integers(1, 30))
def test_clipped_cells_are_the_cells_between_today_and_the_horizon(
    cells: Cells, today_offset: int, horizon: int
) -> None:
    today = START + timedelta(days=today_offset)
    clipped = clip_cells(cells, today, horizon)
    for entity_id, by_date in cells.items():
        for day, cell in by_date.items():
            inside = today <= day < today + timedelta(days=horizon)
            assert clipped.get(entity_id, {}).get(day) == (dict(cell) if inside else None)
    assert all(clipped.values())
