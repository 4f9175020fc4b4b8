"""Values, requests and bytes of a full ARI sync: naive, plain runs, and our compression.

A property with 10 room types x 3 rate plans over a 500-day horizon and a realistic calendar:
weekday/weekend prices by season, fairs, holidays, a few closed dates, availability that moves
daily near today and rarely further out. Then a sparse incremental send as PMSs make it: the
rate on each of 114 days, the minimum stay only on Fridays and Saturdays. Deterministic
(seeded). Run:

    python benchmarks/ari_compression.py
"""

from __future__ import annotations

import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

# This checkout's app, not whichever the virtualenv has installed: run from a copy of older
# code, the benchmark would otherwise measure the current one.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.channex.ari_wire import AriEndpoint, ari_messages
from app.domain.ari import AriRun, Cells, FieldValue, compress, count_runs, expand
from app.domain.ari_strokes import runs_of

SEED = 20250301
TODAY = date(2025, 3, 1)
HORIZON = 500
PROPERTY_ID = "5a1e9c6c-0000-4000-8000-000000000000"
ROOM_TYPES = 10
WEEKEND = (4, 5)  # Friday and Saturday nights
WEEKEND_SEND_DAYS = 114

CellMap = dict[str, dict[date, dict[str, FieldValue]]]


def _uuid(rng: random.Random) -> str:
    return "%08x-%04x-4%03x-8%03x-%012x" % (  # noqa: UP031 - a fixed-width id layout
        rng.getrandbits(32),
        rng.getrandbits(16),
        rng.getrandbits(12),
        rng.getrandbits(12),
        rng.getrandbits(48),
    )


def _season_factor(day: date) -> float:
    if (day.month, day.day) >= (12, 20) or (day.month, day.day) <= (1, 3):
        return 1.8  # peak: Christmas and New Year
    return {6: 1.4, 7: 1.5, 8: 1.5, 9: 1.3, 4: 1.1, 5: 1.15, 10: 1.1}.get(day.month, 1.0)


def _dates() -> list[date]:
    return [TODAY + timedelta(days=i) for i in range(HORIZON)]


def _bar_price(base: int, day: date, fairs: set[date]) -> int:
    price = base * _season_factor(day) * (1.2 if day.weekday() in WEEKEND else 1.0)
    if day in fairs:
        price *= 1.6
    return round(price / 5) * 5


def _restrictions(day: date, closed: set[date]) -> dict[str, FieldValue]:
    peak = _season_factor(day) >= 1.8
    high = _season_factor(day) >= 1.4
    min_stay = 3 if peak else 2 if high and day.weekday() in WEEKEND else 1
    return {
        "min_stay_arrival": min_stay,
        "max_stay": 0,
        "closed_to_arrival": (day.month, day.day) in ((12, 24), (12, 25)),
        "closed_to_departure": False,
        "stop_sell": day in closed,
    }


def build_calendar(rng: random.Random) -> tuple[CellMap, CellMap]:
    """Availability cells by room type and restriction cells by rate plan, every field."""
    days = _dates()
    fairs = {d + timedelta(days=k) for d in rng.sample(days, 4) for k in range(3)}
    closed = set(rng.sample(days, 3))
    availability: CellMap = {}
    restrictions: CellMap = {}
    for _ in range(ROOM_TYPES):
        rooms, base = rng.randint(4, 25), rng.randrange(80, 300, 10)
        availability[_uuid(rng)] = {
            day: {"availability": _availability(rng, rooms, i)} for i, day in enumerate(days)
        }
        renovation = set(days[300:310]) if rng.random() < 0.2 else set()
        for plan in ("bar", "nonref", "bb"):
            cells: dict[date, dict[str, FieldValue]] = {}
            for day in days:
                bar = _bar_price(base, day, fairs)
                cells[day] = {**_restrictions(day, closed | renovation), **_rate(plan, bar)}
            restrictions[_uuid(rng)] = cells
    return availability, restrictions


def _availability(rng: random.Random, rooms: int, offset: int) -> int:
    # Near today bookings move availability daily; further out it is mostly untouched.
    if offset < 90:
        return max(0, rooms - rng.randint(0, rooms))
    if offset < 240:
        return rooms - (rng.randint(1, 2) if rng.random() < 0.15 else 0)
    return rooms


def _rate(plan: str, bar: int) -> dict[str, FieldValue]:
    if plan == "bar":
        return {"rate": f"{bar}.00"}
    if plan == "nonref":
        return {"rate": f"{bar * 0.9:.2f}"}
    # Per-person plan: one rate per occupancy (channex-api.md §6.3 `rates`).
    return {"rates": ((1, f"{bar - 20}.00"), (2, f"{bar + 15}.00"))}


def build_weekend_send(restrictions: CellMap) -> CellMap:
    """Each plan's rate on every day and its minimum stay on Fridays and Saturdays only."""
    days = _dates()[:WEEKEND_SEND_DAYS]
    return {
        plan_id: {day: _weekend_send_cell(cells[day], day) for day in days}
        for plan_id, cells in restrictions.items()
    }


def _weekend_send_cell(cell: dict[str, FieldValue], day: date) -> dict[str, FieldValue]:
    sent = ("rate", "rates", "min_stay_arrival") if day.weekday() in WEEKEND else ("rate", "rates")
    return {name: value for name, value in cell.items() if name in sent}


def naive_runs(cells: Cells) -> list[AriRun]:
    """One value per day per entity, every field."""
    return [
        AriRun(entity_id, day, day, None, tuple(sorted(cell.items(), key=lambda i: i[0])))
        for entity_id, by_date in cells.items()
        for day, cell in sorted(by_date.items())
    ]


def plain_runs(cells: Cells) -> list[AriRun]:
    """Consecutive equal whole cells as one value (the input is gap-free here)."""
    runs: list[AriRun] = []
    for entity_id, by_date in cells.items():
        days = sorted(by_date)
        values = [tuple(sorted(by_date[d].items(), key=lambda i: i[0])) for d in days]
        runs.extend(
            AriRun(entity_id, days[first], days[last], None, value)
            for first, last, value in runs_of(values)
        )
    return runs


def _row(label: str, runs: list[AriRun], endpoint: AriEndpoint) -> str:
    messages = ari_messages(endpoint, PROPERTY_ID, runs)
    size = sum(len(message.body) for message in messages)
    return f"  {label:<28} {len(runs):>8} {len(messages):>9} {size:>12,}"


def report(
    name: str,
    cells: CellMap,
    endpoint: AriEndpoint,
    weekday_sets: tuple[bool, ...],
) -> None:
    header = f"  {'':<28} {'values':>8} {'requests':>9} {'bytes':>12}"
    days = len(next(iter(cells.values())))
    print(f"{name} ({len(cells)} entities x {days} days)\n{header}")
    print(_row("naive (one per day)", naive_runs(cells), endpoint))
    print(_row("minimal equal-value runs", plain_runs(cells), endpoint))
    assert len(plain_runs(cells)) == count_runs(cells)
    for sets in weekday_sets:
        started = time.process_time()
        runs = compress(cells, weekday_sets=sets)
        elapsed = time.process_time() - started
        assert expand(runs) == cells, "compression must be exactly inverted by expansion"
        label = f"compress, weekday sets {'on' if sets else 'off'}"
        print(f"{_row(label, runs, endpoint)}   ({elapsed * 1000:.0f} ms CPU)")
    print()


def main() -> None:
    availability, restrictions = build_calendar(random.Random(SEED))
    report("availability", availability, "availability", (False,))
    report("restrictions", restrictions, "restrictions", (False, True))
    weekend_send = build_weekend_send(restrictions)
    report("weekend send, restrictions", weekend_send, "restrictions", (False, True))


if __name__ == "__main__":
    main()
