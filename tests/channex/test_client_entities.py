"""ChannexClient onboarding calls: paths, filters, headers, wrapped bodies, pagination, parsing."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
import respx

from app.channex.client import ChannexClient
from app.channex.errors import ChannexError
from app.channex.schemas import (
    PropertyAttributes,
    PropertySettings,
    RatePlanAttributes,
    RatePlanOption,
    RoomTypeAttributes,
    WebhookAttributes,
)
from tests.channex.fakes import API_KEY, ScriptedLimiter, payload
from tests.channex.items import has_null, paged, sent_json
from tests.factories import channex_groups, channex_item

PROPERTY_ID = "716305c4-561a-4561-a187-7f5b8aeb5920"
GROUP_ID = "f5338935-7fe0-40eb-9d7e-4dbf7ecc52c7"
ROOM_TYPE_ID = "994d1375-dbbd-4072-8724-b2ab32ce781b"


def property_attrs(**changes: object) -> PropertyAttributes:
    base = PropertyAttributes(
        title="Demo Hotel",
        currency="GBP",
        timezone="Europe/London",
        group_id=GROUP_ID,
        settings=PropertySettings(state_length=730),
    )
    return base.model_copy(update=changes)


def rate_plan_attrs() -> RatePlanAttributes:
    return RatePlanAttributes(
        property_id=PROPERTY_ID,
        room_type_id=ROOM_TYPE_ID,
        title="Best Available Rate",
        options=[RatePlanOption(occupancy=2, is_primary=True, rate=10000)],
    )


async def test_every_request_carries_the_key_and_json_headers(
    api: respx.MockRouter, client: ChannexClient
) -> None:
    route = api.get("/groups/g-1").respond(json={"data": channex_item("group", "g-1", title="Org")})

    group = await client.get_group("g-1")

    headers = route.calls.last.request.headers
    assert headers["user-api-key"] == API_KEY
    assert headers["content-type"] == "application/json"
    assert headers["accept"] == "application/json"
    assert "authorization" not in headers
    assert (group.id, group.title) == ("g-1", "Org")


async def test_list_walks_every_page_with_limit_100(
    api: respx.MockRouter, client: ChannexClient, limiter: ScriptedLimiter
) -> None:
    route = api.get("/groups").mock(side_effect=paged(channex_groups(230), total=230))

    result = await client.list_groups()

    assert [g.id for g in result] == [f"g-{n}" for n in range(230)]
    pages = [dict(call.request.url.params) for call in route.calls]
    assert pages == [{"pagination[page]": str(n), "pagination[limit]": "100"} for n in (1, 2, 3)]
    assert limiter.acquires == [(None, None)] * 3  # onboarding calls carry no ARI scope


@pytest.mark.parametrize(("count", "requests"), [(200, 3), (100, 2), (0, 1), (99, 1)])
async def test_list_without_total_stops_at_a_short_or_empty_page(
    api: respx.MockRouter, client: ChannexClient, count: int, requests: int
) -> None:
    route = api.get("/groups").mock(side_effect=paged(channex_groups(count)))

    assert len(await client.list_groups()) == count
    assert route.call_count == requests


async def test_list_stops_when_total_is_reached(
    api: respx.MockRouter, client: ChannexClient
) -> None:
    route = api.get("/groups").mock(side_effect=paged(channex_groups(200), total=200))

    assert len(await client.list_groups()) == 200
    assert route.call_count == 2


async def test_group_writes_are_wrapped(api: respx.MockRouter, client: ChannexClient) -> None:
    created = api.post("/groups").respond(
        201, json={"data": channex_item("group", "g-1", title="Org")}
    )
    updated = api.put("/groups/g-1").respond(
        json={"data": channex_item("group", "g-1", title="New")}
    )

    assert (await client.create_group("Org")).id == "g-1"
    assert (await client.update_group("g-1", "New")).title == "New"
    assert sent_json(created.calls.last.request) == {"group": {"title": "Org"}}
    assert sent_json(updated.calls.last.request) == {"group": {"title": "New"}}


async def test_create_property_sends_group_id_and_no_nulls(
    api: respx.MockRouter, client: ChannexClient
) -> None:
    route = api.post("/properties").respond(201, json=payload("property"))

    created = await client.create_property(property_attrs())

    body = sent_json(route.calls.last.request)
    assert body == {
        "property": {
            "title": "Demo Hotel",
            "currency": "GBP",
            "timezone": "Europe/London",
            "group_id": GROUP_ID,
            "settings": {"state_length": 730},
        }
    }
    assert not has_null(body)
    assert created.id == PROPERTY_ID


async def test_update_property_never_sends_group_id(
    api: respx.MockRouter, client: ChannexClient
) -> None:
    route = api.put(f"/properties/{PROPERTY_ID}").respond(json=payload("property"))

    await client.update_property(PROPERTY_ID, property_attrs(title="Renamed"))

    body = sent_json(route.calls.last.request)
    assert body["property"]["title"] == "Renamed"
    assert "group_id" not in body["property"]


async def test_property_reads_groups_and_horizon(
    api: respx.MockRouter, client: ChannexClient
) -> None:
    api.get(f"/properties/{PROPERTY_ID}").respond(json=payload("property"))

    prop = await client.get_property(PROPERTY_ID)

    assert prop.group_ids == [GROUP_ID]
    assert prop.state_length == 730
    assert (prop.title, prop.currency, prop.timezone, prop.is_active) == (
        "Demo Hotel", "GBP", "Europe/London", True,
    )  # fmt: skip


async def test_list_properties_filters_by_title_and_tolerates_a_lone_group_id(
    api: respx.MockRouter, client: ChannexClient
) -> None:
    listed = channex_item(
        "property", "p1", title="Demo", currency="EUR", group_id="g9", settings=None
    )
    route = api.get("/properties", params={"filter[title]": "Demo"}).respond(
        json={"data": [listed], "meta": {"total": 1}}
    )

    [prop] = await client.list_properties(title="Demo")

    assert route.called
    assert prop.group_ids == ["g9"]
    assert prop.state_length is None


async def test_room_types_use_the_top_level_path_with_a_filter(
    api: respx.MockRouter, client: ChannexClient
) -> None:
    room = channex_item("room_type", ROOM_TYPE_ID, title="Twin", count_of_rooms=3, occ_adults=2)
    room["relationships"] = {"property": {"data": {"type": "property", "id": PROPERTY_ID}}}
    route = api.get("/room_types", params={"filter[property_id]": PROPERTY_ID}).respond(
        json={"data": [room], "meta": {"total": 1}}
    )

    [room_type] = await client.list_room_types(PROPERTY_ID)

    assert route.calls.last.request.url.params["pagination[limit]"] == "100"
    assert (room_type.property_id, room_type.count_of_rooms) == (PROPERTY_ID, 3)


async def test_room_type_writes_are_wrapped(api: respx.MockRouter, client: ChannexClient) -> None:
    attrs = RoomTypeAttributes(
        property_id=PROPERTY_ID, title="Twin", count_of_rooms=3, occ_adults=2, default_occupancy=2
    )
    answer = {
        "data": channex_item("room_type", ROOM_TYPE_ID, property_id=PROPERTY_ID, title="Twin")
    }
    created = api.post("/room_types").respond(201, json=answer)
    updated = api.put(f"/room_types/{ROOM_TYPE_ID}").respond(json=answer)
    fetched = api.get(f"/room_types/{ROOM_TYPE_ID}").respond(json=answer)

    await client.create_room_type(attrs)
    await client.update_room_type(ROOM_TYPE_ID, attrs)
    await client.get_room_type(ROOM_TYPE_ID)

    expected = {
        "room_type": {
            "property_id": PROPERTY_ID, "title": "Twin", "count_of_rooms": 3, "occ_adults": 2,
            "occ_children": 0, "occ_infants": 0, "default_occupancy": 2,
        }
    }  # fmt: skip
    assert sent_json(created.calls.last.request) == expected
    assert sent_json(updated.calls.last.request) == expected
    assert fetched.called


async def test_rate_plans_filter_by_room_type_and_parse_relationships(
    api: respx.MockRouter, client: ChannexClient
) -> None:
    params = {"filter[property_id]": PROPERTY_ID, "filter[room_type_id]": ROOM_TYPE_ID}
    listed = payload("rate_plan")["data"]
    api.get("/rate_plans", params=params).respond(json={"data": [listed], "meta": {"total": 1}})

    [plan] = await client.list_rate_plans(PROPERTY_ID, room_type_id=ROOM_TYPE_ID)

    assert (plan.property_id, plan.room_type_id, plan.title) == (
        PROPERTY_ID, ROOM_TYPE_ID, "Best Available Rate",
    )  # fmt: skip
    assert plan.options[0].rate == Decimal("100.00")
    assert plan.options[0].is_primary


async def test_create_rate_plan_sends_room_type_but_update_does_not(
    api: respx.MockRouter, client: ChannexClient
) -> None:
    created = api.post("/rate_plans").respond(201, json=payload("rate_plan"))
    updated = api.put("/rate_plans/rp-1").respond(json=payload("rate_plan"))
    fetched = api.get("/rate_plans/rp-1").respond(json=payload("rate_plan"))

    await client.create_rate_plan(rate_plan_attrs())
    await client.update_rate_plan("rp-1", rate_plan_attrs())
    await client.get_rate_plan("rp-1")

    create_body = sent_json(created.calls.last.request)["rate_plan"]
    update_body = sent_json(updated.calls.last.request)["rate_plan"]
    assert create_body["room_type_id"] == ROOM_TYPE_ID
    assert create_body["options"] == [{"occupancy": 2, "is_primary": True, "rate": 10000}]
    assert "room_type_id" not in update_body
    assert update_body["title"] == "Best Available Rate"
    assert fetched.called


async def test_channels_read_property_ids_from_attributes_or_relationships(
    api: respx.MockRouter, client: ChannexClient
) -> None:
    by_attr = channex_item("channel", "c1", channel="BookingCom", is_active=True, properties=["p1"])
    by_rel = channex_item("channel", "c2", channel="AirBNB", title="Air")
    by_rel["relationships"] = {"properties": {"data": [{"type": "property", "id": "p1"}]}}
    api.get("/channels", params={"filter[property_id]": "p1"}).respond(
        json={"data": [by_attr, by_rel], "meta": {"total": 2}}
    )

    first, second = await client.list_channels("p1")

    assert (first.channel, first.is_active, first.property_ids) == ("BookingCom", True, ["p1"])
    assert (second.channel, second.is_active, second.property_ids) == ("AirBNB", False, ["p1"])


async def test_execute_channel_action_posts_to_the_action_path(
    api: respx.MockRouter, client: ChannexClient
) -> None:
    route = api.post("/channels/c1/execute/load_future_reservations").respond(
        json={"meta": {"message": "Success"}}
    )

    await client.execute_channel_action("c1", "load_future_reservations")

    assert route.calls.last.request.content == b""


async def test_ids_cannot_escape_their_path_segment(
    api: respx.MockRouter, client: ChannexClient
) -> None:
    route = api.get(url__regex=r"/groups/\.\.%2Fproperties$").respond(
        json={"data": channex_item("group", "x", title="X")}
    )

    await client.get_group("../properties")

    assert route.called


async def test_webhook_crud(api: respx.MockRouter, client: ChannexClient) -> None:
    attrs = WebhookAttributes(
        callback_url="https://sync.example.com/webhooks/channex",
        event_mask="booking_new;booking_modification;booking_cancellation",
        property_id="p1",
        headers={"X-Channex-Webhook-Secret": "s3cret"},
    )
    hook = channex_item("webhook", "w1", **attrs.payload())
    created = api.post("/webhooks").respond(201, json={"data": hook})
    updated = api.put("/webhooks/w1").respond(json={"data": hook})
    deleted = api.delete("/webhooks/w1").respond(json={"meta": {"message": "Success"}})
    api.get("/webhooks").respond(json={"data": [hook], "meta": {"total": 1}})

    webhook = await client.create_webhook(attrs)
    await client.update_webhook("w1", attrs)
    await client.delete_webhook("w1")
    [listed] = await client.list_webhooks()

    body = sent_json(created.calls.last.request)
    assert body["webhook"]["is_active"] is True
    assert body["webhook"]["send_data"] is True
    assert body["webhook"]["headers"] == {"X-Channex-Webhook-Secret": "s3cret"}
    assert sent_json(updated.calls.last.request) == body
    assert deleted.called
    assert (webhook.id, webhook.property_id, listed.event_mask) == ("w1", "p1", attrs.event_mask)


async def test_global_webhook_sends_no_null_property_id(
    api: respx.MockRouter, client: ChannexClient
) -> None:
    attrs = WebhookAttributes(callback_url="https://x.example", event_mask="*", is_global=True)
    hook = channex_item(
        "webhook", "w2", callback_url="https://x.example", event_mask="*", property_id=None
    )
    route = api.post("/webhooks").respond(201, json={"data": hook})

    webhook = await client.create_webhook(attrs)

    assert not has_null(sent_json(route.calls.last.request))
    assert webhook.property_id is None


async def test_a_malformed_item_is_a_channex_error(
    api: respx.MockRouter, client: ChannexClient
) -> None:
    api.get("/groups/g-1").respond(json={"data": {"id": "g-1", "attributes": {}}})
    api.get("/groups/g-2").mock(return_value=httpx.Response(200, text="not json"))

    with pytest.raises(ChannexError, match="malformed Group") as malformed:
        await client.get_group("g-1")
    with pytest.raises(ChannexError) as no_data:
        await client.get_group("g-2")

    assert malformed.value.code == no_data.value.code == "invalid_response"
