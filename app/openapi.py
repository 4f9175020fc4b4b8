"""The OpenAPI document, rendered the same way by the CLI and by the drift test."""

from __future__ import annotations

import json

from app.main import create_app
from app.settings import Settings


def render_openapi() -> str:
    # Settings are fixed so that the document never depends on the local environment.
    document = create_app(Settings(_env_file=None)).openapi()
    return json.dumps(document, indent=2, sort_keys=True) + "\n"
