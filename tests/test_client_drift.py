"""The PMS client (clients/python) must never drift from `openapi.json`: its generated models
regenerate identically, and its methods are the document's operations, no more, no fewer,
each sending the document's method, path, query parameters and body and answering with the
document's type.

After a change of the API: `channel-sync openapi > openapi.json`, then
`python clients/python/regenerate_models.py`, then add or fix the client method.
"""

from __future__ import annotations

import inspect
import json
import keyword
import re
import typing
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

import regenerate_models
from channel_sync_client import ChannelSyncClient
from channel_sync_client import models as m

ROOT = Path(__file__).resolve().parent.parent
SPEC: dict[str, Any] = json.loads((ROOT / "openapi.json").read_text())

# Channex's webhook receiver is for Channex, not for a PMS.
NOT_FOR_THE_PMS = {"receive_channex_webhook"}
# Client methods that are not operations: the iterators over an operation's pages.
HELPERS = {
    "iter_organizations",
    "iter_properties",
    "iter_sync_runs",
    "iter_booking_revisions",
    "iter_booking_revision_pages",
}


def spec_operations() -> dict[str, tuple[str, str, dict[str, Any]]]:
    return {
        operation["operationId"]: (method.upper(), path, operation)
        for path, operations in SPEC["paths"].items()
        for method, operation in operations.items()
        if operation["operationId"] not in NOT_FOR_THE_PMS
    }


def client_operations() -> set[str]:
    return {
        name
        for name, member in inspect.getmembers(ChannelSyncClient, inspect.iscoroutinefunction)
        if not name.startswith("_") and name not in {"aclose", "__aenter__", "__aexit__"}
    } | (HELPERS & set(dir(ChannelSyncClient)))


def test_the_generated_models_match_openapi_json() -> None:
    committed = regenerate_models.MODELS.read_text()
    assert committed == regenerate_models.render(), "run python clients/python/regenerate_models.py"


def test_every_operation_has_a_client_method_and_every_method_an_operation() -> None:
    methods = client_operations() - HELPERS
    missing = set(spec_operations()) - methods
    extra = methods - set(spec_operations())
    assert not missing, f"operations without a client method: {sorted(missing)}"
    assert not extra, f"client methods that are no operation of openapi.json: {sorted(extra)}"


class Sent(Exception):
    """Raised by the transport instead of answering: the request is what is checked."""

    def __init__(self, request: httpx.Request) -> None:
        self.request = request


def refuse(request: httpx.Request) -> httpx.Response:
    raise Sent(request)


def schema_name(schema: dict[str, Any]) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", schema["$ref"].rsplit("/", 1)[-1])


def expected_answer(operation: dict[str, Any]) -> object:
    """The generated type of the operation's success answer (list of, None for no body)."""
    [(status, response)] = [(s, r) for s, r in operation["responses"].items() if s[0] == "2"]
    schema = response.get("content", {}).get("application/json", {}).get("schema")
    if status == "204" or schema is None:
        return type(None)
    if schema.get("type") == "array":
        return list[getattr(m, schema_name(schema["items"]))]  # type: ignore[misc]
    if "$ref" not in schema:
        return dict[str, Any]
    return getattr(m, schema_name(schema))


def arguments(
    operation: dict[str, Any], hints: dict[str, Any]
) -> tuple[list[object], dict[str, object]]:
    """Distinct values for the path parameters in order, the body as the documented type,
    and a value for each query parameter under its Python name (`from` is `from_`)."""
    args: list[object] = []
    kwargs: dict[str, object] = {}
    for n, parameter in enumerate(operation.get("parameters", [])):
        if parameter["in"] == "path":
            args.append(7000 + n if parameter["schema"].get("type") == "integer" else f"v{n}")
        elif parameter["in"] == "query":
            name = parameter["name"] + ("_" if keyword.iskeyword(parameter["name"]) else "")
            assert name in hints, f"no keyword {name!r} for query parameter {parameter['name']}"
            if parameter.get("required"):
                kwargs[name] = date(2026, 6, 1)
    body = operation.get("requestBody")
    if body is not None:
        model: type[BaseModel] = getattr(
            m, schema_name(body["content"]["application/json"]["schema"])
        )
        assert hints.get("body") is model, "the body parameter is not the documented model"
        args.append(model.model_construct())
    return args, kwargs


@pytest.mark.parametrize("operation_id", sorted(spec_operations()))
async def test_each_method_sends_its_operation(operation_id: str) -> None:
    method, template, operation = spec_operations()[operation_id]
    function = getattr(ChannelSyncClient, operation_id)
    hints = typing.get_type_hints(function)
    assert hints["return"] == expected_answer(operation)
    args, kwargs = arguments(operation, hints)

    transport = httpx.MockTransport(refuse)
    async with httpx.AsyncClient(transport=transport, base_url="http://pms.test") as http:
        client = ChannelSyncClient(http=http)
        with pytest.raises(Sent) as sent:
            await function(client, *args, **kwargs)

    request = sent.value.request
    path_values = iter(str(a) for a in args if not isinstance(a, BaseModel))
    assert request.method == method
    assert request.url.path == re.sub(r"\{[^}]+\}", lambda _: next(path_values), template)
    query = [p for p in operation.get("parameters", []) if p["in"] == "query"]
    required = {p["name"] for p in query if p.get("required")}
    assert required <= set(request.url.params) <= {p["name"] for p in query}
    assert (request.content != b"") == ("requestBody" in operation)
