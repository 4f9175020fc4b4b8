"""The painter's cache: a shape found once paints other values and other weeks alike."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.ari_paint import PaintCache, paint


@settings(max_examples=150, deadline=None)
@given(
    start=st.dates(min_value=date(2030, 1, 1), max_value=date(2030, 1, 7)),
    shape=st.lists(st.integers(0, 3), min_size=1, max_size=45),
    shift=st.integers(0, 6),
)
def test_a_cached_shape_paints_other_values_and_starts_as_a_fresh_search(
    start: date, shape: list[int], shift: int
) -> None:
    # The cache answers for values of the same shape (here: other prices, relabelled in
    # another order) and for starts on the same weekday (here: weeks later).
    cache = PaintCache()
    first = paint(start, [f"{n * 10}.00" for n in shape], weekday_sets=True, cache=cache)
    assert first == paint(start, [f"{n * 10}.00" for n in shape], weekday_sets=True)
    prices = [f"{(3 - n) * 7}.50" for n in shape]
    # Weeks later the weekday filters are the same; a day later they are not.
    for later in (start + timedelta(weeks=shift), start + timedelta(days=1)):
        assert paint(later, prices, weekday_sets=True, cache=cache) == paint(
            later, prices, weekday_sets=True
        )
