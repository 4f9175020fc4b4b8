"""Serving an ASGI app on a real port inside the running event loop: the sandbox beside the
service, end-to-end tests and benchmarks all need real HTTP without a second process."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from starlette.types import ASGIApp


def free_port(host: str = "127.0.0.1") -> int:
    """A port free now, for an app whose own settings must name its URL before it starts."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def serving(app: ASGIApp, port: int = 0, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Serve `app` in this event loop until the block ends; yields its base URL."""
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", ws="none")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # it failed to start: raise why
        await asyncio.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound}"
    finally:
        server.should_exit = True
        await task
