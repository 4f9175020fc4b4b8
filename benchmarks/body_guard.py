"""Memory under oversized bodies: how much `channel-sync serve` grows while four clients at
once each send a 200 MB PUT, without a key and with one.

The server runs as users run it (`channel-sync serve`, embedded SQLite default, in a temporary
directory). Its growth is its peak resident set (VmHWM) after the uploads minus its resident
set before them, read from /proc (Linux). Target (issue 11): under 20 MiB in both cases,
answered 401 and 413.

    .venv/bin/python benchmarks/body_guard.py            # --megabytes, --clients
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.serving import free_port  # noqa: E402

KEY = "body-guard-bench-key"
CHUNK = 256 * 1024
TARGET_MIB = 20.0


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/{pid}/status")


def _reset_peak(pid: int) -> None:
    """Writing 5 to clear_refs resets VmHWM to the current RSS (Linux 4.0+)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


async def _body(megabytes: int) -> AsyncIterator[bytes]:
    chunk = b"x" * CHUNK
    for _ in range(megabytes * 1024 * 1024 // CHUNK):
        yield chunk


async def _upload(base: str, megabytes: int, headers: dict[str, str]) -> str:
    """One oversized PUT; the server may answer and close before the client is done."""
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        try:
            response = await client.put(
                "/v1/organizations/bench", content=_body(megabytes), headers=headers
            )
        except httpx.HTTPError as exc:  # the server closed the connection mid-upload
            return type(exc).__name__
        return str(response.status_code)


async def _round(
    base: str, pid: int, clients: int, megabytes: int, headers: dict[str, str]
) -> tuple[float, list[str]]:
    _reset_peak(pid)
    before = _status_kib(pid, "VmRSS")
    outcomes = await asyncio.gather(*(_upload(base, megabytes, headers) for _ in range(clients)))
    grown = (_status_kib(pid, "VmHWM") - before) / 1024
    return grown, list(outcomes)


def _serve(directory: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{directory}/bench.db",
        "API_KEYS": json.dumps([{"name": "pms", "key": KEY}]),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)
    command = [str(Path(sys.executable).parent / "channel-sync"), "serve", "--port", str(port)]
    return subprocess.Popen(command, cwd=directory, env=env)


def _wait_ready(base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health/live", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not become ready")


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=200)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as directory:
        server = _serve(directory, port)
        try:
            _wait_ready(base)
            print(f"{args.clients} clients at once, {args.megabytes} MB each, to PUT /v1/…")
            missed = False
            for label, headers in (("without a key", {}), ("with a key", {"X-API-Key": KEY})):
                grown, outcomes = await _round(
                    base, server.pid, args.clients, args.megabytes, headers
                )
                missed |= grown >= TARGET_MIB
                answers = ", ".join(outcomes)
                print(f"  {label:14} grew {grown:6.1f} MiB (target < {TARGET_MIB:.0f}): {answers}")
        finally:
            server.terminate()
            server.wait(30)
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
