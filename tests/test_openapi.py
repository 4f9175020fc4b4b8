"""`openapi.json` is generated from the app and must never drift from it."""

from __future__ import annotations

import json
from pathlib import Path

from app.openapi import render_openapi

ROOT = Path(__file__).resolve().parent.parent


def test_openapi_json_matches_the_app() -> None:
    committed = (ROOT / "openapi.json").read_text()
    assert committed == render_openapi(), "run `channel-sync openapi` and commit openapi.json"


def test_every_route_has_a_summary_and_every_body_an_example() -> None:
    document = json.loads(render_openapi())
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), f"{method.upper()} {path} has no summary"
            assert operation.get("description"), f"{method.upper()} {path} has no description"
    schemas = document["components"]["schemas"]
    for name in ("OrganizationPut", "PropertyPut", "RoomTypePut", "RatePlanPut"):
        assert schemas[name].get("examples"), f"{name} has no example"


def test_every_v1_route_declares_api_key_security() -> None:
    document = json.loads(render_openapi())
    for path, operations in document["paths"].items():
        if path.startswith("/v1/") and not path.startswith("/v1/webhooks/"):
            for method, operation in operations.items():
                assert operation.get("security"), f"{method.upper()} {path} is not secured"


def test_errors_are_documented_as_problem_json_only() -> None:
    """FastAPI's default 422 (`HTTPValidationError`, application/json) is never sent: no trace
    of it; every 4xx/5xx of a `/v1` operation is problem+json with the Problem schema."""
    text = render_openapi()
    assert "HTTPValidationError" not in text
    document = json.loads(text)
    for path, operations in document["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for method, operation in operations.items():
            errors = {k: v for k, v in operation["responses"].items() if k[0] in "45"}
            assert "401" in errors or path.startswith("/v1/webhooks/"), f"{method} {path}"
            for status, response in errors.items():
                content = response["content"]
                assert list(content) == ["application/problem+json"], f"{method} {path} {status}"
                schema = content["application/problem+json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Problem"}
