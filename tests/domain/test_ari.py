"""ARI compression on literal calendars: what a person would send by hand, or better."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.domain.ari import AriRun, FieldValue, clip_cells, compress, count_runs, expand

MONDAY = date(2025, 3, 3)
STOP_SELL_OFF: tuple[tuple[str, FieldValue], ...] = (("stop_sell", False),)


def _day(offset: int) -> date:
    return MONDAY + timedelta(days=offset)


def test_equal_consecutive_days_become_one_value() -> None:
    cells = {"rt": {_day(i): {"availability": 5} for i in range(30)}}

    assert compress(cells, weekday_sets=False) == [
        AriRun("rt", _day(0), _day(29), None, (("availability", 5),))
    ]


def test_a_weekend_rate_season_is_one_range_and_one_weekday_override() -> None:
    weekend = {"rate": "150.00"}
    weekday = {"rate": "100.00"}
    cells = {"rp": {_day(i): weekend if i % 7 in (4, 5) else weekday for i in range(56)}}

    runs = compress(cells, weekday_sets=True)

    assert runs == [
        AriRun("rp", _day(0), _day(55), None, (("rate", "100.00"),)),
        AriRun("rp", _day(4), _day(54), frozenset({"fr", "sa"}), (("rate", "150.00"),)),
    ]
    assert count_runs(cells) == 17


def test_weekend_rates_without_weekday_sets_are_a_base_and_one_value_per_weekend() -> None:
    cells = {
        "rp": {_day(i): {"rate": "150.00" if i % 7 in (4, 5) else "100.00"} for i in range(56)}
    }

    runs = compress(cells, weekday_sets=False)

    assert runs[0] == AriRun("rp", _day(0), _day(55), None, (("rate", "100.00"),))
    assert runs[1:] == [
        AriRun("rp", _day(week * 7 + 4), _day(week * 7 + 5), None, (("rate", "150.00"),))
        for week in range(8)
    ]


def test_seasons_with_their_own_weekend_rates_take_two_values_each() -> None:
    def rate(i: int) -> str:
        season, weekend = i // 28, i % 7 in (4, 5)
        return (
            ("100.00", "200.00", "120.00")[season]
            if not weekend
            else ("130.00", "260.00", "150.00")[season]
        )

    cells = {"rp": {_day(i): {"rate": rate(i)} for i in range(84)}}

    runs = compress(cells, weekday_sets=True)

    assert len(runs) == 6
    assert expand(runs) == cells


def test_a_field_that_changes_alone_is_sent_alone() -> None:
    cells = {
        "rp": {
            _day(i): {"rate": "120.00" if i in (3, 4) else "100.00", "min_stay_arrival": 2}
            for i in range(10)
        }
    }

    assert compress(cells, weekday_sets=True) == [
        AriRun("rp", _day(0), _day(9), None, (("min_stay_arrival", 2), ("rate", "100.00"))),
        AriRun("rp", _day(3), _day(4), None, (("rate", "120.00"),)),
    ]


def test_fields_that_change_together_share_one_value() -> None:
    high: dict[str, FieldValue] = {"rate": "200.00", "min_stay_arrival": 3, "stop_sell": False}
    low: dict[str, FieldValue] = {"rate": "100.00", "min_stay_arrival": 1, "stop_sell": False}
    cells = {"rp": {_day(i): high if 10 <= i < 20 else low for i in range(30)}}

    runs = compress(cells, weekday_sets=True)

    assert runs == [
        AriRun(
            "rp",
            _day(0),
            _day(29),
            None,
            (("min_stay_arrival", 1), ("rate", "100.00"), ("stop_sell", False)),
        ),
        AriRun("rp", _day(10), _day(19), None, (("min_stay_arrival", 3), ("rate", "200.00"))),
    ]


def test_a_few_closed_dates_override_one_open_range() -> None:
    cells = {"rp": {_day(i): {"stop_sell": i in (5, 6, 20)} for i in range(40)}}

    assert compress(cells, weekday_sets=False) == [
        AriRun("rp", _day(0), _day(39), None, (("stop_sell", False),)),
        AriRun("rp", _day(5), _day(6), None, (("stop_sell", True),)),
        AriRun("rp", _day(20), _day(20), None, (("stop_sell", True),)),
    ]


def test_dates_missing_from_the_input_are_never_covered() -> None:
    cells = {"rt": {_day(i): {"availability": 3} for i in (0, 1, 2, 5, 6, 7)}}

    assert compress(cells, weekday_sets=False) == [
        AriRun("rt", _day(0), _day(2), None, (("availability", 3),)),
        AriRun("rt", _day(5), _day(7), None, (("availability", 3),)),
    ]


def test_a_weekday_filter_can_skip_the_dates_missing_from_the_input() -> None:
    cells = {"rp": {_day(i): {"stop_sell": False} for i in (0, 1, 2, 5, 6, 7)}}

    assert compress(cells, weekday_sets=True) == [
        AriRun("rp", _day(0), _day(7), frozenset({"mo", "tu", "we", "sa", "su"}), STOP_SELL_OFF)
    ]


def test_a_field_missing_from_a_cell_is_not_sent_for_that_date() -> None:
    cells: dict[str, dict[date, dict[str, FieldValue]]] = {
        "rp": {
            _day(0): {"rate": "100.00", "stop_sell": False},
            _day(1): {"rate": "100.00"},
            _day(2): {"rate": "100.00", "stop_sell": False},
        }
    }

    plain = compress(cells, weekday_sets=False)
    filtered = compress(cells, weekday_sets=True)

    assert plain == [
        AriRun("rp", _day(0), _day(0), None, STOP_SELL_OFF),
        AriRun("rp", _day(0), _day(2), None, (("rate", "100.00"),)),
        AriRun("rp", _day(2), _day(2), None, STOP_SELL_OFF),
    ]
    assert filtered == [
        AriRun("rp", _day(0), _day(2), None, (("rate", "100.00"),)),
        AriRun("rp", _day(0), _day(2), frozenset({"mo", "we"}), STOP_SELL_OFF),
    ]
    assert expand(plain) == expand(filtered) == cells


def test_per_person_rates_compress_as_one_value() -> None:
    rates: FieldValue = ((1, "80.00"), (2, "100.00"))
    cells = {"rp": {_day(i): {"rates": rates} for i in range(14)}}

    assert compress(cells, weekday_sets=True) == [
        AriRun("rp", _day(0), _day(13), None, (("rates", rates),))
    ]


def test_entities_keep_their_input_order_and_empty_cells_are_ignored() -> None:
    cells: dict[str, dict[date, dict[str, FieldValue]]] = {
        "b": {_day(0): {"availability": 1}},
        "a": {_day(0): {"availability": 2}, _day(1): {}},
        "c": {},
    }

    assert [run.entity_id for run in compress(cells, weekday_sets=False)] == ["b", "a"]


def test_a_null_value_is_refused() -> None:
    cells = {"rp": {_day(0): {"rate": None}}}

    with pytest.raises(ValueError, match="null"):
        compress(cells, weekday_sets=True)  # type: ignore[arg-type]


def test_expand_applies_values_in_order_last_wins_per_field() -> None:
    runs = [
        AriRun("rp", _day(0), _day(6), None, (("rate", "100.00"), ("stop_sell", False))),
        AriRun("rp", _day(0), _day(6), frozenset({"sa", "su"}), (("rate", "150.00"),)),
    ]

    expanded = expand(runs)["rp"]

    assert expanded[_day(4)] == {"rate": "100.00", "stop_sell": False}
    assert expanded[_day(5)] == {"rate": "150.00", "stop_sell": False}
    assert expanded[_day(6)] == {"rate": "150.00", "stop_sell": False}


def test_clip_cells_drops_past_dates_and_dates_beyond_the_horizon() -> None:
    cells = {
        "rt": {_day(i): {"availability": i} for i in range(10)},
        "old": {_day(0): {"availability": 1}},
    }

    assert clip_cells(cells, today=_day(2), horizon_days=5) == {
        "rt": {_day(i): {"availability": i} for i in range(2, 7)}
    }
