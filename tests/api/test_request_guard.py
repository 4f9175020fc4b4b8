"""Adversarial: no `/v1` body is read before its caller is known, and none past the cap.

The app runs without its lifespan: every refusal here comes before a route would touch the
database. Bodies are streamed from generators that count what the server pulled, so a test
sees how much was read, not only the status.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from app.api.auth_failures import AuthFailures
from app.api.request_guard import RequestGuard
from app.main import create_app
from app.schemas_ari import MAX_ITEMS, AriBatch
from app.services.secret_policy import WeakSecretError, require_strong_secrets, weak_secrets
from app.settings import ApiKey, Settings

KEY = "body-guard-test-key"
CHUNK = 64 * 1024
LIMIT = 256 * 1024
PUT_ORG = "/v1/organizations/org-1"


class Stream:
    """A body of `chunks` chunks that records how many the server pulled."""

    def __init__(self, chunks: int) -> None:
        self.chunks = chunks
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.chunks):
            self.pulled += 1
            yield b"x" * CHUNK


@pytest.fixture
async def guarded() -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        _env_file=None,
        database_url="sqlite+aiosqlite:///:memory:",
        api_keys=[ApiKey(name="pms", key=KEY)],
        api_max_body_bytes=LIMIT,
    )
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


def _problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


async def test_a_body_without_a_key_is_not_read(guarded: httpx.AsyncClient) -> None:
    body = Stream(chunks=3_200)  # 200 MiB if it were read
    response = await guarded.put(PUT_ORG, content=body)
    _problem(response, 401, "unauthorized")
    assert body.pulled == 0
    assert response.headers["www-authenticate"] == "Bearer"


async def test_a_wrong_key_is_refused_before_the_body_too(guarded: httpx.AsyncClient) -> None:
    body = Stream(chunks=3_200)
    response = await guarded.put(PUT_ORG, content=body, headers={"X-API-Key": "guess"})
    _problem(response, 401, "unauthorized")
    assert body.pulled == 0


async def test_malformed_json_without_a_key_is_401_not_422(guarded: httpx.AsyncClient) -> None:
    response = await guarded.put(
        PUT_ORG, content=b"{not json", headers={"Content-Type": "application/json"}
    )
    _problem(response, 401, "unauthorized")


@pytest.mark.parametrize(
    "auth", [{"Authorization": f"Bearer {KEY}"}, {"X-API-Key": KEY}], ids=["bearer", "x-api-key"]
)
async def test_a_streamed_body_past_the_cap_is_refused_while_it_streams(
    guarded: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    body = Stream(chunks=3_200)  # chunked: it declares no length, so only counting can stop it
    response = await guarded.put(PUT_ORG, content=body, headers=auth)
    _problem(response, 413, "payload_too_large")
    assert body.pulled <= LIMIT // CHUNK + 1


async def test_a_declared_length_past_the_cap_is_refused_unread(
    guarded: httpx.AsyncClient,
) -> None:
    body = b"x" * (LIMIT + 1)
    response = await guarded.put(PUT_ORG, content=body, headers={"X-API-Key": KEY})
    _problem(response, 413, "payload_too_large")


async def test_a_body_under_the_cap_reaches_the_route(guarded: httpx.AsyncClient) -> None:
    response = await guarded.put(
        PUT_ORG,
        content=b"{not json",
        headers={"X-API-Key": KEY, "Content-Type": "application/json"},
    )
    _problem(response, 422, "validation_error")  # read and parsed: the route's own answer


@pytest.mark.parametrize("path", ["/health/live", "/v1/webhooks/channex"])
async def test_routes_outside_v1_and_the_webhook_intake_keep_their_own_rules(path: str) -> None:
    reached: list[str] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        reached.append(scope["path"])
        await PlainTextResponse("inner")(scope, receive, send)

    guard = RequestGuard(inner, Settings(_env_file=None, api_max_body_bytes=LIMIT))
    transport = httpx.ASGITransport(app=guard)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post(path, content=b"x" * (LIMIT + 1))  # no key, over the cap
    assert (response.status_code, reached) == (200, [path])  # the intake has its own secret


def _largest_item() -> dict[str, object]:
    """A restrictions item with every field at its longest valid value."""
    rate = "999999999.999"
    return {
        "type": "restrictions",
        "room_type_id": "r" * 64,
        "rate_plan_id": "p" * 64,
        "date_from": "2026-06-01",
        "date_to": "2028-05-31",
        "days": ["mo", "tu", "we", "th", "fr", "sa", "su"],
        "rate": rate,
        "rates": [{"occupancy": n, "rate": rate} for n in range(1, 51)],
        "min_stay_arrival": 730,
        "min_stay_through": 730,
        "max_stay": 730,
        "closed_to_arrival": True,
        "closed_to_departure": True,
        "stop_sell": True,
    }


def test_the_default_cap_holds_the_largest_valid_ari_batch() -> None:
    batch = {"items": [_largest_item()] * MAX_ITEMS}
    AriBatch.model_validate(batch)  # valid, so a PMS may send it
    default = Settings(_env_file=None).api_max_body_bytes
    assert len(json.dumps(batch, separators=(",", ":"))) <= default
    assert len(json.dumps(batch)) <= default
    # And one rate more per item is no longer valid: the batch's size is bounded.
    too_many = {**_largest_item(), "rates": [{"occupancy": 1, "rate": "1"}] * 51}
    with pytest.raises(ValueError, match="at most 50"):
        AriBatch.model_validate({"items": [too_many]})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_address_past_the_limit_waits_out_the_window_and_others_do_not() -> None:
    clock = Clock()
    failures = AuthFailures(3, window_seconds=60, clock=clock)
    for _ in range(3):
        assert failures.retry_after("10.0.0.1") is None
        failures.failed("10.0.0.1")
        clock.now += 1
    assert failures.retry_after("10.0.0.1") == pytest.approx(57)
    assert failures.retry_after("10.0.0.2") is None
    clock.now += 57
    assert failures.retry_after("10.0.0.1") is None  # the oldest failure left the window


def test_a_success_forgets_the_failures_and_memory_stays_bounded() -> None:
    failures = AuthFailures(2, max_addresses=100, clock=Clock())
    failures.failed("10.0.0.1")
    failures.succeeded("10.0.0.1")
    failures.failed("10.0.0.1")
    assert failures.retry_after("10.0.0.1") is None  # one failure since the success
    for n in range(1_000):
        failures.failed(f"192.0.2.{n}")
    assert len(failures._failures) == 100


async def test_repeated_wrong_keys_get_429_with_retry_after_then_even_a_right_key_waits() -> None:
    settings = Settings(
        _env_file=None,
        database_url="sqlite+aiosqlite:///:memory:",
        api_keys=[ApiKey(name="pms", key=KEY)],
        auth_failures_per_minute=3,
    )
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        wrong = [
            (await client.get("/v1/organizations", headers={"X-API-Key": f"guess-{n}"}))
            for n in range(3)
        ]
        blocked = await client.get("/v1/organizations", headers={"X-API-Key": "guess-4"})
        right = await client.get("/v1/organizations", headers={"X-API-Key": KEY})
    assert [r.status_code for r in wrong] == [401, 401, 401]
    _problem(blocked, 429, "too_many_failures")
    assert 1 <= int(blocked.headers["retry-after"]) <= 60
    _problem(right, 429, "too_many_failures")  # a guesser does not learn when it got it right


async def test_wrong_webhook_secrets_count_as_failures_too() -> None:
    async def intake(scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse("wrong secret", status_code=401)(scope, receive, send)

    guard = RequestGuard(intake, Settings(_env_file=None, auth_failures_per_minute=2))
    transport = httpx.ASGITransport(app=guard)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        statuses = [
            (await client.post("/v1/webhooks/channex", content=b"{}")).status_code for _ in range(3)
        ]
    assert statuses == [401, 401, 429]


@pytest.mark.parametrize(
    ("keys", "webhook_secret", "weak"),
    [
        (["short"], None, ["API key 'k0'"]),
        (["x" * 40], None, ["API key 'k0'"]),  # long, but one character repeated
        ([secrets.token_urlsafe(32)], "webhook-secret", ["CHANNEX_WEBHOOK_SECRET"]),
        ([secrets.token_urlsafe(32)], secrets.token_urlsafe(32), []),
    ],
    # Fixed ids: random ones differ between pytest-xdist's workers, which then refuse to run.
    ids=["short-key", "repeated-key", "weak-webhook-secret", "all-strong"],
)
def test_production_refuses_weak_secrets_at_start_and_development_allows_them(
    keys: list[str], webhook_secret: str | None, weak: list[str]
) -> None:
    base = Settings(
        _env_file=None,
        api_keys=[ApiKey(name=f"k{n}", key=key) for n, key in enumerate(keys)],
        channex_webhook_secret=webhook_secret,
    )
    production = base.model_copy(update={"environment": "production"})
    assert weak_secrets(production) == weak
    if weak:
        with pytest.raises(WeakSecretError, match="32 random characters"):
            require_strong_secrets(production)
    else:
        require_strong_secrets(production)
    require_strong_secrets(base)  # development: short keys for local trials
