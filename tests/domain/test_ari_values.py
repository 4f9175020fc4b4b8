"""Runs as Channex value objects, and values cut into messages under the size cap."""

from __future__ import annotations

import json
from datetime import date
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.ari import AriRun
from app.domain.ari_values import (
    JsonDict,
    availability_values,
    message_bytes,
    restriction_values,
    split_by_size,
)

PROPERTY = "prop-1"
DAY = date(2025, 3, 3)
LATER = date(2025, 3, 30)


def test_availability_runs_become_availability_values() -> None:
    runs = [AriRun("rt-1", DAY, LATER, None, (("availability", 4),))]

    assert availability_values(runs, PROPERTY) == [
        {
            "property_id": PROPERTY,
            "room_type_id": "rt-1",
            "date_from": "2025-03-03",
            "date_to": "2025-03-30",
            "availability": 4,
        }
    ]


@pytest.mark.parametrize(
    "run",
    [
        AriRun("rt-1", DAY, LATER, frozenset({"sa"}), (("availability", 4),)),
        AriRun("rt-1", DAY, LATER, None, (("availability", 4), ("rate", "1.00"))),
        AriRun("rt-1", DAY, LATER, None, (("availability", True),)),
        AriRun("rt-1", DAY, LATER, None, (("availability", -1),)),
    ],
)
def test_availability_values_refuse_what_the_endpoint_does_not_take(run: AriRun) -> None:
    with pytest.raises(ValueError, match=r"availability|greater"):
        availability_values([run], PROPERTY)


def test_restriction_runs_become_restriction_values_with_weekdays_in_order() -> None:
    runs = [
        AriRun(
            "rp-1",
            DAY,
            LATER,
            frozenset({"su", "fr", "sa"}),
            (("min_stay_arrival", 2), ("rate", "150.00"), ("stop_sell", False)),
        ),
        AriRun("rp-2", DAY, DAY, None, (("rates", ((1, "80.00"), (2, "100.00"))),)),
    ]

    assert restriction_values(runs, PROPERTY) == [
        {
            "property_id": PROPERTY,
            "rate_plan_id": "rp-1",
            "date_from": "2025-03-03",
            "date_to": "2025-03-30",
            "days": ["fr", "sa", "su"],
            "min_stay_arrival": 2,
            "rate": "150.00",
            "stop_sell": False,
        },
        {
            "property_id": PROPERTY,
            "rate_plan_id": "rp-2",
            "date_from": "2025-03-03",
            "date_to": "2025-03-03",
            "rates": [{"occupancy": 1, "rate": "80.00"}, {"occupancy": 2, "rate": "100.00"}],
        },
    ]


def test_restriction_values_refuse_unknown_fields() -> None:
    run = AriRun("rp-1", DAY, DAY, None, (("max_sell", 3),))

    with pytest.raises(ValueError, match="max_sell"):
        restriction_values([run], PROPERTY)


def test_split_by_size_sends_everything_in_one_message_when_it_fits() -> None:
    values: list[JsonDict] = [{"n": i} for i in range(100)]

    assert split_by_size(values) == [values]
    assert split_by_size([]) == []


def test_split_by_size_counts_the_body_exactly() -> None:
    values: list[JsonDict] = [{"n": i} for i in range(3)]
    exact = len(json.dumps({"values": values}, separators=(",", ":")))

    assert message_bytes(values) == exact
    assert split_by_size(values, max_bytes=exact) == [values]
    assert split_by_size(values, max_bytes=exact - 1) == [values[:2], values[2:]]


def test_split_by_size_refuses_a_value_that_can_never_fit() -> None:
    with pytest.raises(ValueError, match="larger"):
        split_by_size([{"note": "x" * 100}], max_bytes=50)


@settings(max_examples=200, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 60), max_size=40),
    max_bytes=st.integers(160, 600),
)
def test_split_by_size_keeps_order_and_every_message_under_the_cap(
    sizes: list[int], max_bytes: int
) -> None:
    values: list[JsonDict] = [{"i": i, "pad": "é" * size} for i, size in enumerate(sizes)]

    chunks = split_by_size(values, max_bytes=max_bytes)

    assert [value for chunk in chunks for value in chunk] == values
    assert all(chunk and message_bytes(chunk) <= max_bytes for chunk in chunks)
    # Greedy: the next message's first value would not have fitted in the previous one.
    for before, after in pairwise(chunks):
        assert message_bytes([*before, after[0]]) > max_bytes
