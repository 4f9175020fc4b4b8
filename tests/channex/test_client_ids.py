"""Adversarial: an id that URL normalization would resolve (`.`, `..`) or an empty one never
reaches Channex: `properties/..` would be the API's root."""

from __future__ import annotations

import pytest
import respx

from app.channex.client import ChannexClient
from app.channex.errors import ChannexNotFoundError


@pytest.mark.parametrize("channex_id", ["", ".", ".."])
async def test_a_dot_or_empty_id_reaches_no_channex_path(
    client: ChannexClient, channex_id: str
) -> None:
    with respx.mock(assert_all_called=False) as router:
        with pytest.raises(ChannexNotFoundError, match="not a Channex id"):
            await client.get_property(channex_id)
        with pytest.raises(ChannexNotFoundError, match="not a Channex id"):
            await client.ack_booking_revision(channex_id)
    assert router.calls.call_count == 0
