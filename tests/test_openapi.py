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
