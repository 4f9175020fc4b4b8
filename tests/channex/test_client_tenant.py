"""An ARI message counts against its tenant's share of the account's budget: the client hands
the message's tenant to the limiter with its property and endpoint."""

from __future__ import annotations

from datetime import date

import respx

from app.channex.ari_wire import ari_messages
from app.channex.client import ChannexClient
from app.domain.ari import AriRun
from tests.channex.fakes import ScriptedLimiter, payload

PROPERTY_ID = "716305c4-561a-4561-a187-7f5b8aeb5920"


async def test_a_pushed_message_names_its_tenant_to_the_limiter(
    api: respx.MockRouter, client: ChannexClient, limiter: ScriptedLimiter
) -> None:
    run = AriRun("rt1", date(2031, 1, 1), date(2031, 1, 5), None, (("availability", 4),))
    [message] = ari_messages("availability", PROPERTY_ID, [run], tenant="7")
    api.post("/availability").respond(json=payload("ari_push"))

    await client.push_ari(message)

    assert limiter.acquires == [(PROPERTY_ID, "availability")]
    assert limiter.tenants == ["7"]
