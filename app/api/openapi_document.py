"""The OpenAPI document as `app.openapi()` answers it: FastAPI's rendering, finished once.

FastAPI's document lacks what this API really does (problem responses, examples with their
nulls, the webhooks' replies: app/api/problem_docs.py, openapi_examples.py, revision_docs.py).
Each of those is a step that edits the rendered document in place; they run in order on the
first call, and every later call (each GET /openapi.json, each /docs load) answers the
finished document as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import FastAPI

Step = Callable[[dict[str, Any]], None]


def install_document(app: FastAPI, steps: Sequence[Step]) -> None:
    """Make `app.openapi()` answer FastAPI's document finished by `steps`, in their order."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = FastAPI.openapi(app)  # renders, and keeps it as app.openapi_schema
            for step in steps:
                step(document)
        return app.openapi_schema  # type: ignore[return-value]  # set by FastAPI.openapi

    app.openapi = openapi  # type: ignore[method-assign]
