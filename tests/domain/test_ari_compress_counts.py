"""The compressor on seeded random calendars: exactly what Channex ends up with, and never more
values than the compressor of 2026-12-03 sent (its counts are in compress_counts.json).

The calendars mimic what a full sync meets: realistic seasons and weekend prices, the same
after scattered PMS changes (the fragmented state that benchmarks/ari.py's part 2 leaves),
sparse sends with gaps and missing fields, and fields present on some weekdays only.
"""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from pathlib import Path

import pytest

from app.domain.ari import FieldValue, compress, expand

COUNTS = json.loads((Path(__file__).parent / "compress_counts.json").read_text())
START = date(2025, 3, 3)
CALENDARS = 150

VALUES: dict[str, list[FieldValue]] = {
    "rate": ["90.00", "100.00", "120.00", "150.00"],
    "rates": [((1, "80.00"), (2, "100.00")), ((1, "90.00"), (2, "110.00"))],
    "min_stay_arrival": [1, 2, 3],
    "max_stay": [0, 7],
    "closed_to_arrival": [False, True],
    "stop_sell": [False, True],
}

CellMap = dict[str, dict[date, dict[str, FieldValue]]]


def calendar(seed: int) -> CellMap:
    """One to four rate plans of one of four kinds, from 10 to 250 days, seeded."""
    rng = random.Random(seed)
    kind = (_seasonal, _fragmented, _sparse, _weekday_fields)[seed % 4]
    cells: CellMap = {}
    for plan in range(rng.randint(1, 4)):
        start = START + timedelta(days=rng.randint(0, 6))
        days = [start + timedelta(days=i) for i in range(rng.choice([10, 30, 60, 120, 250]))]
        cells[f"rp{plan}"] = kind(rng, days, rng.sample(sorted(VALUES), rng.randint(1, 4)))
    return cells


def _seasonal(
    rng: random.Random, days: list[date], names: list[str]
) -> dict[date, dict[str, FieldValue]]:
    """A value per weekday per season, a few exceptions."""
    seasons = [{name: rng.choices(VALUES[name], k=7) for name in names} for _ in range(4)]
    cuts = sorted(rng.sample(range(1, len(days)), min(3, len(days) - 1)))
    cells: dict[date, dict[str, FieldValue]] = {}
    for index, day in enumerate(days):
        season = seasons[sum(cut <= index for cut in cuts)]
        cells[day] = {name: season[name][day.weekday()] for name in names}
        if rng.random() < 0.05:
            cells[day][names[0]] = rng.choice(VALUES[names[0]])
    return cells


def _fragmented(
    rng: random.Random, days: list[date], names: list[str]
) -> dict[date, dict[str, FieldValue]]:
    """Seasonal, then many single dates changed at random, as after a burst of PMS changes."""
    cells = _seasonal(rng, days, names)
    for day in rng.sample(days, len(days) // 4):
        name = rng.choice(names)
        cells[day][name] = rng.choice(VALUES[name])
    return cells


def _sparse(
    rng: random.Random, days: list[date], names: list[str]
) -> dict[date, dict[str, FieldValue]]:
    """Half the dates, each with some of the fields."""
    cells: dict[date, dict[str, FieldValue]] = {}
    for day in rng.sample(days, max(1, len(days) // 2)):
        chosen = rng.sample(names, rng.randint(1, len(names)))
        cells[day] = {name: rng.choice(VALUES[name]) for name in chosen}
    return cells


def _weekday_fields(
    rng: random.Random, days: list[date], names: list[str]
) -> dict[date, dict[str, FieldValue]]:
    """A daily rate, and minimum stays on some weekdays only."""
    weekdays = set(rng.sample(range(7), rng.randint(1, 4)))
    cells: dict[date, dict[str, FieldValue]] = {}
    for day in days:
        cells[day] = {"rate": rng.choice(["90.00", "100.00"]) if rng.random() < 0.1 else "100.00"}
        if day.weekday() in weekdays:
            cells[day]["min_stay_arrival"] = rng.choice([2, 2, 3])
    return cells


@pytest.mark.parametrize("weekday_sets", [True, False])
def test_compression_of_random_calendars_is_exact_and_never_longer_than_before(
    weekday_sets: bool,
) -> None:
    counts = COUNTS["weekday_sets" if weekday_sets else "plain"]
    assert len(counts) == CALENDARS
    for seed in range(CALENDARS):
        cells = calendar(seed)
        runs = compress(cells, weekday_sets=weekday_sets)
        assert expand(runs) == cells, seed  # applied in order, last wins (channex-api.md §6.3)
        assert len(runs) <= counts[seed], seed
