"""Sparse incremental sends: fields present only on some weekdays compress to `days` values."""

from __future__ import annotations

from datetime import date, timedelta

from app.domain.ari import AriRun, FieldValue, compress, expand

MONDAY = date(2025, 3, 3)

CellMap = dict[str, dict[date, dict[str, FieldValue]]]


def _day(offset: int) -> date:
    return MONDAY + timedelta(days=offset)


def _weekend_minimum_stay(days: int) -> dict[date, dict[str, FieldValue]]:
    """A PMS's usual send: a rate every day, a dearer rate and a minimum stay on Fri and Sat."""
    weekend: dict[str, FieldValue] = {"rate": "150.00", "min_stay_arrival": 2}
    weekday: dict[str, FieldValue] = {"rate": "120.00"}
    return {_day(i): dict(weekend if i % 7 in (4, 5) else weekday) for i in range(days)}


def test_a_weekend_rate_and_minimum_stay_over_a_season_are_two_values() -> None:
    cells = {"rp": _weekend_minimum_stay(114)}

    runs = compress(cells, weekday_sets=True)

    assert runs == [
        AriRun("rp", _day(0), _day(113), None, (("rate", "120.00"),)),
        AriRun(
            "rp",
            _day(4),
            _day(110),
            frozenset({"fr", "sa"}),
            (("min_stay_arrival", 2), ("rate", "150.00")),
        ),
    ]
    assert expand(runs) == cells


def test_a_minimum_stay_on_saturdays_of_one_season_is_one_filtered_value() -> None:
    cells: CellMap = {"rp": {_day(i): {"rate": "100.00"} for i in range(84)}}
    for i in range(28, 56):
        if i % 7 == 5:
            cells["rp"][_day(i)]["min_stay_arrival"] = 3

    runs = compress(cells, weekday_sets=True)

    assert runs == [
        AriRun("rp", _day(0), _day(83), None, (("rate", "100.00"),)),
        AriRun("rp", _day(33), _day(54), frozenset({"sa"}), (("min_stay_arrival", 3),)),
    ]
    assert expand(runs) == cells


def test_stop_sell_on_sundays_only_is_one_filtered_value() -> None:
    cells: CellMap = {"rp": {_day(i): {"stop_sell": True} for i in range(6, 90, 7)}}

    runs = compress(cells, weekday_sets=True)

    assert runs == [AriRun("rp", _day(6), _day(83), frozenset({"su"}), (("stop_sell", True),))]
    assert expand(runs) == cells


def test_sundays_closed_amid_daily_rates_add_one_value() -> None:
    cells: CellMap = {"rp": {_day(i): {"rate": "100.00"} for i in range(60)}}
    for i in range(6, 60, 7):
        cells["rp"][_day(i)]["stop_sell"] = True

    runs = compress(cells, weekday_sets=True)

    assert len(runs) == 2
    assert expand(runs) == cells


def test_two_entities_in_one_call_are_compressed_each_on_its_own() -> None:
    saturdays: dict[date, dict[str, FieldValue]] = {
        _day(i): {"min_stay_arrival": 2} for i in range(5, 70, 7)
    }
    cells: CellMap = {"a": _weekend_minimum_stay(114), "b": saturdays}

    runs = compress(cells, weekday_sets=True)

    assert [run.entity_id for run in runs] == ["a", "a", "b"]
    assert runs[2] == AriRun("b", _day(5), _day(68), frozenset({"sa"}), (("min_stay_arrival", 2),))
    assert expand(runs) == cells


def test_without_weekday_sets_sparse_weekends_stay_exact_and_unfiltered() -> None:
    cells = {"rp": _weekend_minimum_stay(114)}

    runs = compress(cells, weekday_sets=False)

    assert all(run.days is None for run in runs)
    assert expand(runs) == cells
