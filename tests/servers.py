"""Reachability of the real PostgreSQL and Redis servers the suite runs against.

Outside CI an unreachable server skips its tests (the reason names the URL); in CI
(`CI=true`) it is a failure, so a broken CI machine can never pass by skipping.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

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


@asynccontextmanager
async def scratch_database(prefix: str) -> AsyncIterator[str]:
    """A new, empty database on the PostgreSQL server of POSTGRES_URL, dropped afterwards:
    each run (and each deployment test) has its own, so runs never meet."""
    require_server(POSTGRES_URL, "PostgreSQL")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


def scratch_namespace(prefix: str) -> str:
    """A REDIS_NAMESPACE nobody else uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


async def delete_namespace(redis_url: str, namespace: str) -> None:
    """Remove every key of `namespace` (its own keys and arq's keys of its job ids)."""
    redis = Redis.from_url(redis_url)
    try:
        keys = [key async for key in redis.scan_iter(match=f"*{namespace}:*", count=1000)]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()
