"""ChannexClient.one_time_token: the channel iframe's token (channex-api.md §9.4), wrapped
as Channex wants it, and no token is no success."""

from __future__ import annotations

import httpx
import pytest
import respx

from app.channex.client import ChannexClient
from app.channex.errors import ChannexError, ChannexValidationError
from tests.channex.items import sent_json

PROPERTY_ID = "716305c4-561a-4561-a187-7f5b8aeb5920"
GROUP_ID = "f5338935-7fe0-40eb-9d7e-4dbf7ecc52c7"


async def test_the_token_is_asked_for_the_property_and_returned(
    api: respx.MockRouter, client: ChannexClient
) -> None:
    route = api.post("/auth/one_time_token").respond(200, json={"data": {"token": "t0k3n"}})

    token = await client.one_time_token(PROPERTY_ID, username="front-desk", group_id=GROUP_ID)
    bare = await client.one_time_token(PROPERTY_ID, username="front-desk")

    assert (token, bare) == ("t0k3n", "t0k3n")
    assert sent_json(route.calls[0].request) == {
        "one_time_token": {"property_id": PROPERTY_ID, "username": "front-desk",
                           "group_id": GROUP_ID}
    }  # fmt: skip
    assert sent_json(route.calls[1].request) == {
        "one_time_token": {"property_id": PROPERTY_ID, "username": "front-desk"}
    }


@pytest.mark.parametrize("body", [{"data": {}}, {"data": {"token": ""}}, {"meta": {}}])
async def test_an_answer_without_a_token_is_an_error(
    api: respx.MockRouter, client: ChannexClient, body: dict[str, object]
) -> None:
    api.post("/auth/one_time_token").respond(200, json=body)

    with pytest.raises(ChannexError) as caught:
        await client.one_time_token(PROPERTY_ID, username="front-desk")

    assert caught.value.code == "invalid_response"


async def test_channex_s_refusal_comes_through(
    api: respx.MockRouter, client: ChannexClient
) -> None:
    errors = {"code": "validation_error", "title": "Validation Error",
              "details": {"property_id": ["is invalid"]}}  # fmt: skip
    api.post("/auth/one_time_token").mock(return_value=httpx.Response(422, json={"errors": errors}))

    with pytest.raises(ChannexValidationError):
        await client.one_time_token(PROPERTY_ID, username="front-desk")
