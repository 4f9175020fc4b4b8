"""A connection session (issue 15): the PMS asks for the URL of Channex's channel iframe,
with a one-time token inside that is never stored nor logged; scoped keys reach only their
own properties, and a property not in Channex has no session."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI

from app.settings import CHANNEX_PRODUCTION_URL, CHANNEX_STAGING_URL, Settings
from tests import log_capture
from tests.conftest import ORG1_KEY
from tests.factories import PROPERTY, onboard, seed_two_organizations
from tests.fake_channex import FakeChannex

SESSION = "/v1/properties/p-1/channels/session"


async def test_the_session_url_opens_channex_headless_on_the_property_with_its_options(
    client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    await onboard(client)
    channex_property_id = (await client.get("/v1/properties/p-1")).json()["channex_property_id"]
    before = datetime.now(UTC)
    body = {"channels": ["BDC", "EXP"], "language": "de", "read_only_availability": True,
            "username": "front-desk@seaside.example"}  # fmt: skip

    response = await client.post(SESSION, json=body)

    assert response.status_code == 201, response.text
    [(sent, token)] = channex.tokens
    assert sent == {"property_id": channex_property_id, "username": "front-desk@seaside.example"}
    url = urlsplit(response.json()["url"])
    # The sandbox's and Channex's web app sit beside the API: CHANNEX_API_URL without /api/v1.
    assert (url.scheme, url.netloc, url.path) == ("https", "channex.test", "/auth/exchange")
    assert parse_qs(url.query) == {
        "oauth_session_key": [token],
        "app_mode": ["headless"],
        "redirect_to": ["/channels"],
        "property_id": [channex_property_id],
        "channels": ["BDC,EXP"],
        "lng": ["de"],
        "read_only_availability": ["true"],
    }
    expires = datetime.fromisoformat(response.json()["expires_at"])
    assert before + timedelta(minutes=15) <= expires <= datetime.now(UTC) + timedelta(minutes=15)


async def test_without_options_every_ota_is_offered_in_channex_s_defaults(
    client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    await onboard(client)

    response = await client.post(SESSION)

    assert response.status_code == 201, response.text
    query = parse_qs(urlsplit(response.json()["url"]).query)
    assert set(query) == {"oauth_session_key", "app_mode", "redirect_to", "property_id"}
    assert channex.tokens[0][0]["username"] == "channel-sync"


@pytest.mark.parametrize(
    ("api_url", "app_url", "server"),
    [
        (CHANNEX_STAGING_URL, None, "https://staging.channex.io"),
        (CHANNEX_PRODUCTION_URL, None, "https://app.channex.io"),
        # `serve --sandbox`: the sandbox's pages beside its API, under the mount.
        ("http://127.0.0.1:8000/channex-sandbox/api/v1", None,
         "http://127.0.0.1:8000/channex-sandbox"),
        (CHANNEX_STAGING_URL, "https://iframe.example/", "https://iframe.example"),
    ],
)  # fmt: skip
def test_the_url_s_server_is_channex_s_web_app(
    api_url: str, app_url: str | None, server: str
) -> None:
    settings = Settings(_env_file=None, channex_api_url=api_url, channex_app_url=app_url)
    assert settings.channex_app_base_url == server


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"channels": ["BDC", "XYZ"]}, "body.channels.1"),
        ({"channels": []}, "body.channels"),
        ({"language": "German"}, "body.language"),
        ({"read_only_availability": "sometimes"}, "body.read_only_availability"),
        ({"token": "mine"}, "body.token"),
    ],
)
async def test_options_are_validated_before_channex_is_asked(
    client: httpx.AsyncClient, channex: FakeChannex, body: dict[str, object], loc: str
) -> None:
    await onboard(client)

    response = await client.post(SESSION, json=body)

    assert response.status_code == 422, response.text
    assert loc in [e["loc"] for e in response.json()["errors"]]
    assert channex.tokens == []


async def test_a_scoped_key_gets_no_session_for_another_organization_s_property(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    await seed_two_organizations(client)
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {ORG1_KEY}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as org1:
        other = await org1.post("/v1/properties/p-2/channels/session", json={})
        own = await org1.post(SESSION, json={})

    assert other.status_code == 404, other.text
    assert other.json()["code"] == "not_found"
    assert own.status_code == 201, own.text
    assert len(channex.tokens) == 1  # only for its own property


async def test_a_property_not_in_channex_has_no_session(
    client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    await onboard(client)
    # A change Channex does not take leaves the property `error`: not in sync with Channex.
    channex.fail_next.extend(httpx.Response(503) for _ in range(10))
    renamed = {**PROPERTY, "title": "Seaside Hotel (renamed)"}
    assert (await client.put("/v1/properties/p-1", json=renamed)).status_code == 503
    channex.fail_next.clear()

    response = await client.post(SESSION, json={})

    assert response.status_code == 409, response.text
    assert response.json()["code"] == "property_not_synced"
    assert channex.tokens == []


debug_logs = log_capture.debug_logs


async def test_the_token_never_reaches_a_log_line(
    debug_logs: io.StringIO, client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    await onboard(client)

    response = await client.post(SESSION, json={"channels": ["BDC"]})

    assert response.status_code == 201, response.text
    [(_, token)] = channex.tokens
    logged = debug_logs.getvalue()
    # Both the session request and Channex's token call were logged, without the token.
    assert "channels/session 201" in logged
    assert "auth/one_time_token" in logged
    assert token not in logged
    assert "oauth_session_key" not in logged
