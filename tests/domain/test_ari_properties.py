"""Property-based tests: compression is exactly inverted by expansion, never worse than runs."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.ari import (
    Cells,
    FieldValue,
    clip_cells,
    compress,
    compress_disjoint,
    count_runs,
    expand,
)

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


@st.composite
def weekday_patterned_cells(draw: st.DrawFn) -> dict[str, dict[date, dict[str, FieldValue]]]:
    """Sparse incremental sends: each field on its own weekdays through its own window, with
    one value or one per weekday, and some dates dropped or changed."""
    cells: dict[str, dict[date, dict[str, FieldValue]]] = {}
    for entity_id in draw(st.lists(st.sampled_from("ab"), unique=True, min_size=1, max_size=2)):
        by_date: dict[date, dict[str, FieldValue]] = {}
        start = START + timedelta(days=draw(st.integers(0, 6)))
        names = draw(st.lists(st.sampled_from(sorted(FIELD_VALUES)), unique=True, min_size=1))
        for name in names:
            for day, value in _field_pattern(draw, name, start).items():
                by_date.setdefault(day, {})[name] = value
        dropped = draw(st.sets(st.sampled_from(sorted(by_date)), max_size=3)) if by_date else set()
        for day in dropped:
            del by_date[day]
        cells[entity_id] = by_date
    return cells


def _field_pattern(draw: st.DrawFn, name: str, start: date) -> dict[date, FieldValue]:
    first, length = draw(st.integers(0, 30)), draw(st.integers(1, 90))
    weekdays = draw(st.sets(st.integers(0, 6), min_size=1))
    per_weekday = draw(st.lists(FIELD_VALUES[name], min_size=7, max_size=7))
    if draw(st.booleans()):
        per_weekday = [per_weekday[0]] * 7
    days = [start + timedelta(days=first + i) for i in range(length)]
    pattern = {day: per_weekday[day.weekday()] for day in days if day.weekday() in weekdays}
    for day in draw(st.sets(st.sampled_from(days), max_size=2)):
        if day in pattern:
            pattern[day] = draw(FIELD_VALUES[name])
    return pattern


ANY_CELLS = st.one_of(random_cells(), seasonal_cells(), weekday_patterned_cells())


def _without_empty(cells: Cells) -> dict[str, dict[date, dict[str, FieldValue]]]:
    kept = {
        entity_id: {day: dict(cell) for day, cell in by_date.items() if cell}
        for entity_id, by_date in cells.items()
    }
    return {entity_id: by_date for entity_id, by_date in kept.items() if by_date}


@SETTINGS
@given(cells=ANY_CELLS, weekday_sets=st.booleans())
def test_expanding_the_compressed_runs_gives_back_exactly_the_cells(
    cells: Cells, weekday_sets: bool
) -> None:
    assert expand(compress(cells, weekday_sets=weekday_sets)) == _without_empty(cells)


@SETTINGS
@given(cells=ANY_CELLS, weekday_sets=st.booleans())
def test_compression_never_needs_more_values_than_runs_of_equal_cells(
    cells: Cells, weekday_sets: bool
) -> None:
    assert len(compress(cells, weekday_sets=weekday_sets)) <= count_runs(cells)


@SETTINGS
@given(cells=ANY_CELLS)
def test_disjoint_runs_expand_to_the_cells_and_never_overlap(cells: Cells) -> None:
    runs = compress_disjoint(cells)
    assert expand(runs) == _without_empty(cells)
    assert len(runs) == count_runs(cells)  # the fewest values that do not overlap
    for entity_id in cells:
        dates = [day for run in runs if run.entity_id == entity_id for day in run.covered_dates()]
        assert len(dates) == len(set(dates)), entity_id  # no date set twice: order is moot


@SETTINGS
@given(cells=ANY_CELLS)
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
@given(cells=ANY_CELLS)
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


@SETTINGS
@given(
    weekdays=st.sets(st.integers(0, 6), min_size=1),
    first=st.integers(0, 30),
    length=st.integers(1, 150),
    min_stay=st.integers(1, 3),
    stop_sell=st.booleans(),
)
def test_fields_on_the_same_weekdays_over_a_daily_rate_are_one_filtered_value(
    weekdays: set[int], first: int, length: int, min_stay: int, stop_sell: bool
) -> None:
    """The ideal send: the daily rate, then one value for the weekday-only fields."""
    cells: dict[str, dict[date, dict[str, FieldValue]]] = {"rp": {}}
    for i in range(first, first + length):
        day = START + timedelta(days=i)
        cells["rp"][day] = {"rate": "100.00"}
        if day.weekday() in weekdays:
            cells["rp"][day].update({"min_stay_arrival": min_stay, "stop_sell": stop_sell})

    runs = compress(cells, weekday_sets=True)

    assert expand(runs) == cells
    # One value when every date (or none) has the weekday-only fields: they merge or vanish.
    uniform = len({len(cell) for cell in cells["rp"].values()}) == 1
    assert len(runs) == (1 if uniform else 2)
