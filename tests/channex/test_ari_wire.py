"""Runs as Channex value objects, cut into messages under the size cap, and warnings matched
back to the runs they echo (channex-api.md §6.2, §6.3, §6.5, §6.6)."""

from __future__ import annotations

import json
from datetime import date
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.channex.ari_wire import AriMessage, ari_messages, dropped_runs
from app.channex.schemas import AriResult
from app.domain.ari import AriRun

PROPERTY = "prop-1"
DAY = date(2025, 3, 3)
LATER = date(2025, 3, 30)
HUGE = 10**12  # a cap no test message reaches


def values(message: AriMessage) -> list[dict[str, Any]]:
    """The values of a message, as Channex reads its body."""
    body = json.loads(message.body)
    assert list(body) == ["values"]
    result: list[dict[str, Any]] = body["values"]
    return result


def rate_run(number: int, rate: str = "100.00") -> AriRun:
    return AriRun(f"rp-{number}", DAY, DAY, None, (("rate", rate),))


def test_availability_runs_become_availability_values() -> None:
    runs = [AriRun("rt-1", DAY, LATER, None, (("availability", 4),))]

    [message] = ari_messages("availability", PROPERTY, runs)

    assert (message.endpoint, message.property_id, message.runs) == (
        "availability",
        PROPERTY,
        tuple(runs),
    )
    assert values(message) == [
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
        ari_messages("availability", PROPERTY, [run])


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

    [message] = ari_messages("restrictions", PROPERTY, runs)

    assert message.runs == tuple(runs)
    assert values(message) == [
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
        ari_messages("restrictions", PROPERTY, [run])


def test_every_value_of_a_message_belongs_to_its_property() -> None:
    # The limiter counts per property, so one request must not touch another's (§6.5).
    runs = [rate_run(n) for n in range(5)]

    messages = ari_messages("restrictions", PROPERTY, runs, max_bytes=300)

    assert len(messages) > 1
    assert all(message.property_id == PROPERTY for message in messages)
    assert {value["property_id"] for m in messages for value in values(m)} == {PROPERTY}


def test_everything_goes_in_one_message_when_it_fits() -> None:
    runs = [rate_run(n) for n in range(100)]

    [message] = ari_messages("restrictions", PROPERTY, runs)

    assert message.runs == tuple(runs)
    assert [value["rate_plan_id"] for value in values(message)] == [f"rp-{n}" for n in range(100)]
    assert ari_messages("restrictions", PROPERTY, []) == []


def test_a_message_body_is_exactly_the_compact_json_of_its_values() -> None:
    runs = [rate_run(n) for n in range(3)]
    [message] = ari_messages("restrictions", PROPERTY, runs)
    exact = len(json.dumps({"values": values(message)}, separators=(",", ":")))

    assert len(message.body) == exact
    assert [m.runs for m in ari_messages("restrictions", PROPERTY, runs, max_bytes=exact)] == [
        tuple(runs)
    ]
    split = ari_messages("restrictions", PROPERTY, runs, max_bytes=exact - 1)
    assert [m.runs for m in split] == [tuple(runs[:2]), tuple(runs[2:])]


def test_a_value_that_can_never_fit_is_refused() -> None:
    with pytest.raises(ValueError, match="larger"):
        ari_messages("restrictions", PROPERTY, [rate_run(0)], max_bytes=50)


@settings(max_examples=200, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 60), max_size=40),
    max_bytes=st.integers(260, 700),
)
def test_messages_keep_order_and_every_one_stays_under_the_cap(
    sizes: list[int], max_bytes: int
) -> None:
    runs = [rate_run(i, "é" * size) for i, size in enumerate(sizes)]

    messages = ari_messages("restrictions", PROPERTY, runs, max_bytes=max_bytes)

    assert [run for message in messages for run in message.runs] == runs
    assert [value["rate"] for m in messages for value in values(m)] == ["é" * s for s in sizes]
    assert all(m.runs and len(values(m)) == len(m.runs) for m in messages)
    assert all(len(message.body) <= max_bytes for message in messages)
    # Greedy: the next message's first value would not have fitted in the previous one.
    for before, after in pairwise(messages):
        [joined] = ari_messages(
            "restrictions", PROPERTY, [*before.runs, after.runs[0]], max_bytes=HUGE
        )
        assert len(joined.body) > max_bytes


def test_a_warning_fails_exactly_the_value_it_echoes() -> None:
    runs = [
        AriRun("rp-1", DAY, LATER, None, (("rate", "100.00"),)),
        AriRun("rp-1", DAY, LATER, frozenset({"sa", "fr"}), (("rate", "5.00"),)),
        AriRun("rp-2", DAY, LATER, None, (("rate", "5.00"),)),
    ]
    [message] = ari_messages("restrictions", PROPERTY, runs)
    echo = {**values(message)[1], "warning": {"rate": ["must be greater than 0"]}}

    dropped = dropped_runs(message, AriResult(warnings=[echo]))

    assert dropped == {1: '{"rate": ["must be greater than 0"]}'}


def test_a_reformatted_warning_fails_the_overlapping_values_of_its_target_only() -> None:
    runs = [
        AriRun("rt-1", DAY, DAY, None, (("availability", 1),)),
        AriRun("rt-1", LATER, LATER, None, (("availability", 2),)),
        AriRun("rt-2", DAY, LATER, None, (("availability", 3),)),
    ]
    [message] = ari_messages("availability", PROPERTY, runs)
    echo = {"room_type_id": "rt-1", "date": "2025-03-30", "warning": "is invalid"}

    assert dropped_runs(message, AriResult(warnings=[echo])) == {1: "is invalid"}
    assert dropped_runs(message, AriResult(warnings=[])) == {}
