"""The OpenAPI document is written for a person, and its examples cannot rot (issue 12).

Every operation has a summary of its own, every tag a description, every schema property a
description; every JSON request body and 2xx JSON answer has an example where Swagger UI shows
it (the media type), and every example in the document validates against its schema, keeps
its nulls, and every request body example is accepted by the model that parses it.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel

import app.api.bookings
import app.api.problem_docs
import app.api.webhooks
import app.schemas
import app.schemas_ari
import app.schemas_channel_session
import app.services.booking_problems
import app.services.pms_endpoints
from app.openapi import render_openapi

JSON = "application/json"
# Operations whose answers have no example yet, by operation id, each with its reason. An entry
# that is no longer needed fails test_exclusions_are_still_needed: remove it.
NO_EXAMPLE: dict[str, str] = {}
# Component schemas whose properties are not all described yet, with the reason.
UNDESCRIBED: dict[str, str] = {}
MODEL_MODULES: tuple[ModuleType, ...] = (
    app.schemas,
    app.schemas_ari,
    app.schemas_channel_session,
    app.services.booking_problems,
    app.services.pms_endpoints,
    app.api.bookings,
    app.api.webhooks,
    app.api.problem_docs,
)


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return json.loads(render_openapi())  # type: ignore[no-any-return]


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            yield f"{method.upper()} {path}", operation


def _json_media(operation: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, media type object) of the JSON request body and every 2xx JSON answer."""
    body = operation.get("requestBody", {}).get("content", {}).get(JSON)
    if body is not None:
        yield "request body", body
    for status, response in operation["responses"].items():
        media = response.get("content", {}).get(JSON)
        if status.startswith("2") and media is not None:
            yield f"{status} answer", media


def _media_examples(media: dict[str, Any]) -> list[Any]:
    named = [example["value"] for example in media.get("examples", {}).values()]
    return ([media["example"]] if "example" in media else []) + named


def _validator(schema: dict[str, Any], document: dict[str, Any]) -> Draft202012Validator:
    # The document's `#/components/...` references resolve against the root schema.
    root = {**schema, "components": document["components"]}
    return Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _models() -> Iterator[type[BaseModel]]:
    for module in MODEL_MODULES:
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseModel) and value.__module__ == module.__name__:
                yield value


def test_every_operation_has_a_summary_of_its_own(document: dict[str, Any]) -> None:
    for label, operation in _operations(document):
        default = operation["operationId"].replace("_", " ").title()  # FastAPI's own
        assert operation.get("summary"), f"{label} has no summary"
        assert operation["summary"] != default, f"{label}: write a summary for a person"
        assert operation.get("description"), f"{label} has no description (its docstring)"


def test_every_tag_used_is_described(document: dict[str, Any]) -> None:
    described = {tag["name"]: tag.get("description") for tag in document.get("tags", [])}
    used = {tag for _, operation in _operations(document) for tag in operation.get("tags", [])}
    for _, operation in _operations(document):
        assert operation.get("tags"), f"{operation['operationId']} has no tag"
    assert used <= set(described), f"tags without a description: {used - set(described)}"
    assert set(described) <= used, f"described but unused: {set(described) - used}"
    assert all(described.values()), described


def test_every_json_body_and_success_answer_has_an_example(document: dict[str, Any]) -> None:
    """At the media type: Swagger UI shows that one, not a schema's `examples` (3.1)."""
    for label, operation in _operations(document):
        if operation["operationId"] in NO_EXAMPLE:
            continue
        for where, media in _json_media(operation):
            assert _media_examples(media), f"{label}: its {where} has no example"


def test_exclusions_are_still_needed(document: dict[str, Any]) -> None:
    ids = {operation["operationId"]: operation for _, operation in _operations(document)}
    for operation_id in NO_EXAMPLE:
        assert operation_id in ids, f"{operation_id} is gone: drop it from NO_EXAMPLE"
        examples = [_media_examples(m) for _, m in _json_media(ids[operation_id])]
        assert not all(examples), f"{operation_id} has its examples: drop it from NO_EXAMPLE"
    schemas = document["components"]["schemas"]
    for name in UNDESCRIBED:
        properties = schemas[name].get("properties", {}).values()
        assert not all("description" in p for p in properties), f"drop {name} from UNDESCRIBED"


def test_every_example_validates_against_its_schema(document: dict[str, Any]) -> None:
    checked = 0
    for label, operation in _operations(document):
        for where, media in _json_media(operation):
            validator = _validator(media.get("schema", {}), document)
            for example in _media_examples(media):
                errors = [e.message for e in validator.iter_errors(example)]
                assert not errors, f"{label}, {where}: {errors}"
                checked += 1
    for name, schema in document["components"]["schemas"].items():
        validator = _validator({"$ref": f"#/components/schemas/{name}"}, document)
        for example in schema.get("examples", []):
            errors = [e.message for e in validator.iter_errors(example)]
            assert not errors, f"the example of {name}: {errors}"
            checked += 1
    assert checked > 80  # 36 operations' examples and 40 schemas' at least


def test_request_body_examples_are_accepted_by_their_models(document: dict[str, Any]) -> None:
    """What a JSON schema cannot say (one `rate` or a restriction, default_occupancy at most
    occ_adults, no unknown field...) the model checks: a body example must pass it too."""
    models = {model.__name__: model for model in _models()}
    checked = 0
    for _, operation in _operations(document):
        body = operation.get("requestBody", {}).get("content", {}).get(JSON)
        ref = (body or {}).get("schema", {}).get("$ref", "")
        if ref:
            model = models[ref.rsplit("/", 1)[-1]]
            for example in _media_examples(body or {}):
                model.model_validate(example)
                checked += 1
    assert checked >= 6, checked  # organization, property, room type, rate plan, ARI, endpoint


def test_examples_keep_their_nulls(document: dict[str, Any]) -> None:
    """FastAPI writes the document without None values, examples included: each component's
    examples must still be its model's, nulls and all."""
    schemas = document["components"]["schemas"]
    compared = 0
    for model in _models():
        own = model.model_json_schema().get("examples")
        if own is not None and model.__name__ in schemas:
            assert schemas[model.__name__]["examples"] == own, model.__name__
            compared += 1
    page = schemas["Page_SyncRunRead_"]["examples"][0]
    assert page["next_offset"] is None
    assert page["items"][0]["error"] is None
    webhook = document["paths"]["/v1/webhooks/channex"]["post"]["requestBody"]
    assert webhook["content"][JSON]["examples"]["booking"]["value"]["user_id"] is None
    assert compared > 30, compared


def test_every_schema_property_is_described(document: dict[str, Any]) -> None:
    for name, schema in document["components"]["schemas"].items():
        if name in UNDESCRIBED:
            continue
        for field, prop in schema.get("properties", {}).items():
            assert prop.get("description"), f"{name}.{field} has no description"
