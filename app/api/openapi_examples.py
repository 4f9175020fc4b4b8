"""The models' examples in the OpenAPI document, where Swagger UI shows them, nulls and all.

Each model carries one example in its JSON schema (`json_schema_extra`, app/schema_examples.py).
Two things stand between it and the reader. FastAPI encodes the document with `exclude_none`,
which also drops every `null` inside an example (and inside a route's `openapi_extra`), so an
example would no longer validate against its own schema. And Swagger UI shows a media type's
`example`, not a schema's `examples` (OpenAPI 3.1). So once FastAPI has built the document,
each component schema gets its model's examples back as written, each route's `openapi_extra`
is laid over its operation again as written, and each JSON request body and 2xx JSON response
without an example of its own gets its schema's (for a list: a list of its item's).
"""

from __future__ import annotations

import copy
import typing
from collections.abc import Iterator, Sequence
from typing import Any

from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.routing import BaseRoute

JSON = "application/json"
REF_PREFIX = "#/components/schemas/"


def document_examples(document: dict[str, Any], routes: Sequence[BaseRoute]) -> None:
    """Put the examples of `routes`' models into `document`, in place (idempotent)."""
    api_routes = [r for r in routes if isinstance(r, APIRoute) and r.include_in_schema]
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    _restore_schema_examples(schemas, api_routes)
    for route in api_routes:
        for method in route.methods or ():
            operation = document["paths"][route.path_format][method.lower()]
            if route.openapi_extra:
                _lay_over(operation, route.openapi_extra)
            for media in _json_media(operation):
                if "example" not in media and "examples" not in media:
                    example = example_of(media.get("schema", {}), schemas)
                    if example is not None:
                        media["example"] = example


def _restore_schema_examples(schemas: dict[str, Any], routes: Sequence[APIRoute]) -> None:
    by_title: dict[str, list[dict[str, Any]]] = {}
    for schema in schemas.values():
        by_title.setdefault(schema.get("title", ""), []).append(schema)
    for model in _models(routes):
        own = model.model_json_schema()
        if "examples" in own:
            # Found by title, the model's name: a model's components in both directions
            # (`X-Input`, `X-Output`) share it.
            for schema in by_title.get(own.get("title", ""), []):
                schema["examples"] = copy.deepcopy(own["examples"])


def example_of(schema: dict[str, Any], schemas: dict[str, Any]) -> Any:
    """The first example of a schema, of the component it references, or, for an array, a
    list of its items' example; None when there is none."""
    if schema.get("examples"):
        return copy.deepcopy(schema["examples"][0])
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(REF_PREFIX):
        return example_of(schemas.get(ref.removeprefix(REF_PREFIX), {}), schemas)
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        item = example_of(schema["items"], schemas)
        return None if item is None else [item]
    return None


def _json_media(operation: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The JSON media types of the operation's request body and 2xx responses."""
    body = operation.get("requestBody", {}).get("content", {}).get(JSON)
    if body is not None:
        yield body
    for status, response in operation.get("responses", {}).items():
        media = response.get("content", {}).get(JSON)
        if status.startswith("2") and media is not None:
            yield media


def _lay_over(target: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _lay_over(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def _models(routes: Sequence[APIRoute]) -> Iterator[type[BaseModel]]:
    """Every model a route takes or answers, and the models inside them, once each."""
    seen: set[type[BaseModel]] = set()
    pending: list[Any] = []
    for route in routes:
        pending.append(route.response_model)
        if route.body_field is not None:
            pending.append(route.body_field.field_info.annotation)
        pending.extend(response.get("model") for response in route.responses.values())
    while pending:
        annotation = pending.pop()
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if annotation not in seen:
                seen.add(annotation)
                yield annotation
                pending.extend(f.annotation for f in annotation.model_fields.values())
        else:
            pending.extend(typing.get_args(annotation))
