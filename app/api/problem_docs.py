"""The error responses of every operation, written into the OpenAPI document.

FastAPI documents a 422 of its own (`HTTPValidationError`, `application/json`) that this API
never sends, and nothing else. Here each operation gets the problem+json responses it can
really give, derived from what the route is: a `/v1` route checks a key (401, and 429 for an
address that keeps failing), a route with ids in its path can miss (404), a route with a body
can be too large (413) or no JSON at all (400), anything with input can be invalid (422), and
a route that talks to Channex can find it away (502, 503), its size limit reached or the
property not in it (409). What a route's service adds (403, 409) is listed in EXTRA_STATUSES
by operation id. The schemathesis test (tests/api/test_schema_conformance.py) checks the
result against what the app answers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from starlette.routing import BaseRoute

from app.api.deps import authenticate, get_channex
from app.api.errors import PROBLEM_JSON

PROBLEM_REF = "#/components/schemas/Problem"
FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


class ProblemField(BaseModel):
    """One rejected input field."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"loc": "body.title", "message": "Field required", "code": "missing"}]
        }
    )

    loc: str = Field(
        description="Where: a dotted path such as `body.title`, `query.offset`, `path.org_id`."
    )
    message: str = Field(description="Why, for a person.")
    code: str = Field(description="Why, for a program (e.g. `string_too_long`, `missing`).")


class Problem(BaseModel):
    """An error (RFC 9457 problem details). Programs branch on `code`, never on `title`."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "urn:channel-sync:problem:validation_error",
                    "title": "Invalid request",
                    "status": 422,
                    "code": "validation_error",
                    "instance": "/v1/organizations/org-1",
                    "detail": "the request did not validate",
                    "errors": [
                        {"loc": "body.title", "message": "Field required", "code": "missing"}
                    ],
                }
            ]
        }
    )

    type: str = Field(description="`urn:channel-sync:problem:<code>`.")
    title: str = Field(description="A short summary of the kind of error.")
    status: int = Field(description="The HTTP status, repeated.")
    code: str = Field(description="The stable machine-readable error code.")
    instance: str = Field(description="The path of the request that failed.")
    detail: str | None = Field(None, description="What went wrong in this case.")
    errors: list[ProblemField] | None = Field(
        None, description="The rejected fields, on validation errors."
    )


# What each status means here, and the codes it carries (docs/integration.md lists them all).
DESCRIPTIONS = {
    400: "The body is not JSON (`bad_request`).",
    401: "No API key, or not a known one (`unauthorized`).",
    403: "The key may not do this (`channex_property_in_other_group`, `group_adoption_forbidden`, "
    "`white_label_disabled`).",
    404: "Not found, or not visible to this key (`not_found`).",
    409: "The request conflicts with the current state (`quota_exceeded`, "
    "`channex_limit_reached`, `channex_id_taken`, "
    "`organization_disconnected`, `property_disconnected`, `organization_not_synced`, "
    "`property_not_synced`, `room_type_not_synced`, `property_in_other_organization`, "
    "`adoption_needs_channex`).",
    413: "The body is larger than `API_MAX_BODY_BYTES` (`payload_too_large`).",
    422: "The request did not validate (`validation_error`, with `errors`), or Channex "
    "rejected it (`channex_rejected`).",
    429: "Too many failed authentications from this address (`too_many_failures`); retry "
    "after `Retry-After` seconds.",
    502: "Channex answered with an error of its own (`channex_error`, `channex_auth_failed`, "
    "`channex_not_found`).",
    503: "Channex is unavailable or rate limited (`channex_unavailable`, "
    "`channex_rate_limited`), or not configured; retry after `Retry-After` seconds. Nothing "
    "was lost: what was stored stays stored.",
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 1},
    }
}
WITH_RETRY_AFTER = (429, 503)

# Statuses a route's service adds beyond what the route's shape implies, by operation id.
EXTRA_STATUSES: dict[str, tuple[int, ...]] = {
    "put_organization": (403, 409),
    "put_property": (403, 409),
    "post_ari": (409,),
    "create_channel": (403, 409),
    "full_sync": (409,),
    # The Channex webhook checks its own secret and cap, and may find the inbox unavailable.
    "receive_channex_webhook": (401, 413, 429, 503),
}


def statuses_of(route: APIRoute) -> list[int]:
    """The error statuses a route can answer, from what it depends on and takes."""
    calls = set(_calls(route.dependant))
    found: set[int] = set(EXTRA_STATUSES.get(route.name, ()))
    if authenticate in calls:
        found |= {401, 422, 429}  # 422: a NUL anywhere in the URL (app/api/request_guard.py)
    if route.dependant.path_params and route.path.startswith("/v1/"):
        found.add(404)
    if route.body_field is not None:
        found |= {400, 413, 422}
    if route.dependant.path_params or route.dependant.query_params or route.body_field:
        found.add(422)
    if get_channex in calls:
        found |= {422, 502, 503}
        if route.body_field is not None or "property_id" in _path_names(route):
            found.add(409)  # Channex's size limit reached; the property not (or no more) in it
    return sorted(found)


def _path_names(route: APIRoute) -> set[str]:
    return {param.name for param in route.dependant.path_params}


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any] | None]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def document_problems(document: dict[str, Any], routes: Sequence[BaseRoute]) -> None:
    """Give each operation of `document` its problem responses, in place."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in FASTAPI_VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    for model in (Problem, ProblemField):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas[model.__name__] = schema
    for route in routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods or ():
            operation = document["paths"][route.path_format][method.lower()]
            responses = operation.setdefault("responses", {})
            for status in statuses_of(route):
                responses[str(status)] = _problem_response(status)
            # FastAPI's own 422 of a route we did not mark: it never happens.
            stale = responses.get("422", {}).get("content", {})
            if "application/json" in stale:
                del responses["422"]


def _problem_response(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": DESCRIPTIONS[status],
        "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}},
    }
    if status in WITH_RETRY_AFTER:
        response["headers"] = RETRY_AFTER
    return response
