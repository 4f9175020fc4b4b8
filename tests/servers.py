"""Reachability of the real PostgreSQL and Redis servers the suite runs against.

Outside CI an unreachable server skips its tests (the reason names the URL); in CI
(`CI=true`) it is a failure, so a broken CI machine can never pass by skipping.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), 2):
            return True
    except OSError:
        return False


def require_server(url: str, what: str) -> None:
    """Skip (or, in CI, fail) the calling test when the server at `url` is unreachable."""
    if reachable(url):
        return
    message = f"{what} not reachable at {url}"
    if in_ci():
        pytest.fail(f"{message} (CI=true: a missing server is a failure)")
    pytest.skip(message)
