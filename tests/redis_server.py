"""A Redis server of a test's own, on a free port, that the test may stop and start again:
outage tests must never restart the Redis that other tests (or other runs) share."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from app.serving import free_port
from tests.servers import in_ci

START_TIMEOUT_SECONDS = 10.0


class PrivateRedis:
    """`redis-server` on 127.0.0.1:<port>, keeping nothing on disk."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._directory = directory
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self._directory)]
        self._process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not _accepts(self.port):
            if time.monotonic() > deadline or self._process.poll() is not None:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.02)

    def stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(START_TIMEOUT_SECONDS)
            self._process = None


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), 0.2):
            return True
    except OSError:
        return False


def require_redis_server() -> None:
    """Skip (fail in CI) when there is no redis-server binary to start."""
    if shutil.which("redis-server") is None:
        if in_ci():
            pytest.fail("redis-server is not installed (CI=true: a missing server is a failure)")
        pytest.skip("redis-server is not installed")
