"""Webhook intake throughput and latency, beside a bare FastAPI + asyncpg endpoint.

Both servers run in their own process with the same settings (uvicorn, one worker, asyncio
loop, h11, no access log, 20 database connections kept open) on PostgreSQL. One load tool (a
minimal keep-alive HTTP/1.1 client on asyncio streams) measures both the same way: a
warm-up, then a closed loop at full speed interleaved in rounds (requests/s, p50, p99), then
an open loop at half the bare endpoint's rate (p50, p99, from each request's due time).
Every webhook names a new revision, so each one is a real insert. Production mode (jobs to
arq on Redis; no worker is started, so nothing else competes for the CPU):

    TEST_POSTGRES_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/bench \
        python benchmarks/webhook_intake.py --redis redis://127.0.0.1:6379/15

Without --redis the embedded in-process queue also processes every event in the intake's
process. Target (issue 5): intake >= 0.8 x bare requests/s; p99 < 50 ms at half that rate.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing
import os
import statistics
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

# At module level: FastAPI resolves the route's (string) annotations from the module globals.
from fastapi import FastAPI, Request

from app.serving import free_port

SECRET = "bench-webhook-secret"
DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
# One set of server settings for both targets: one worker, the same event loop and HTTP
# parser, no access log, the same number of database connections (all kept open), and the
# startup heap frozen out of the cyclic GC's way in both.
UVICORN = {"host": "127.0.0.1", "loop": "asyncio", "http": "h11", "access_log": False}
POOL_SIZE = 20
WARMUP_SECONDS = 2.0
Body = Callable[[int], bytes]


def run_intake(database_url: str, port: int, redis_url: str | None) -> None:
    """Process target: channel-sync itself (migrated database, no Channex calls). With Redis
    it runs as in production (jobs go to arq workers, none started here); without, the
    embedded in-process queue processes every event in this same process."""
    import logging

    import uvicorn

    from app.main import create_app
    from app.settings import Settings

    logging.disable(logging.WARNING)
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        redis_url=redis_url,
        channex_webhook_secret=SECRET,
        channex_sync_enabled=False,  # intake only: events stay pending, nothing is fetched
        sweep_interval_seconds=3600,
        database_pool_size=POOL_SIZE,
        database_max_overflow=0,
    )
    app = create_app(settings)
    gc.freeze()  # as `channel-sync serve` does
    uvicorn.run(app, port=port, log_level="error", **UVICORN)


def run_bare(database_url: str, port: int) -> None:
    """Process target: the reference, a FastAPI route inserting one row with asyncpg."""
    from collections.abc import AsyncIterator as Iter
    from contextlib import asynccontextmanager as acm

    import asyncpg
    import uvicorn

    dsn = database_url.replace("postgresql+asyncpg://", "postgresql://")

    @acm
    async def lifespan(app: FastAPI) -> Iter[None]:
        app.state.pool = await asyncpg.create_pool(dsn, min_size=POOL_SIZE, max_size=POOL_SIZE)
        async with app.state.pool.acquire() as conn:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS bench_event (id serial PRIMARY KEY, body text)"
            )
        yield
        await app.state.pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.post("/hook")
    async def hook(request: Request) -> dict[str, bool]:
        body = (await request.body()).decode()
        async with request.app.state.pool.acquire() as conn:
            await conn.execute("INSERT INTO bench_event (body) VALUES ($1)", body)
        return {"received": True}

    gc.freeze()  # the same treatment as the intake
    uvicorn.run(app, port=port, log_level="error", **UVICORN)


def webhook(n: int) -> bytes:
    ids = {"booking_id": f"b-{n}", "property_id": "p", "revision_id": f"r-{os.getpid()}-{n}"}
    envelope = {"event": "booking", "property_id": "p", "user_id": None, "payload": ids}
    return json.dumps(envelope).encode()


class Connection:
    """One keep-alive HTTP/1.1 connection: POST, read the answer, measure."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        head = f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        head += f"Content-Length: {len(body)}\r\n\r\n"
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return int(status_line.split()[1])


@asynccontextmanager
async def connections(port: int, count: int) -> AsyncIterator[list[Connection]]:
    opened = [Connection(*await asyncio.open_connection("127.0.0.1", port)) for _ in range(count)]
    try:
        yield opened
    finally:
        for conn in opened:
            conn.writer.close()


async def wait_ready(port: int, path: str, headers: dict[str, str]) -> None:
    for _ in range(300):
        try:
            async with connections(port, 1) as (conn,):
                await conn.post(path, webhook(-1), headers)
                return
        except (OSError, IndexError, asyncio.IncompleteReadError):
            await asyncio.sleep(0.1)
    raise RuntimeError(f"server on {port} never answered")


def summary(latencies: list[float], seconds: float) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "rps": len(ordered) / seconds,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[int(len(ordered) * 0.99) - 1] * 1000,
    }


async def closed_loop(
    port: int, path: str, headers: dict[str, str], seconds: float, count: int
) -> list[float]:
    """Every connection sends its next request as soon as the last is answered: latencies."""
    latencies: list[float] = []
    counter = iter(range(10**9))
    deadline = time.perf_counter() + seconds

    async def worker(conn: Connection) -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            status = await conn.post(path, webhook(next(counter)), headers)
            assert status == 200, status
            latencies.append(time.perf_counter() - started)

    async with connections(port, count) as conns:
        await asyncio.gather(*(worker(c) for c in conns))
    return latencies


async def open_loop(
    port: int, path: str, headers: dict[str, str], seconds: float, rate: float, count: int
) -> dict[str, float]:
    """Requests at a fixed total rate, spread over the connections (latency from send time)."""
    latencies: list[float] = []
    counter = iter(range(10**9))
    interval = count / rate
    start = time.perf_counter()

    async def worker(conn: Connection, offset: float) -> None:
        due = start + offset
        while due < start + seconds:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            await conn.post(path, webhook(next(counter)), headers)
            latencies.append(time.perf_counter() - due)
            due += interval

    async with connections(port, count) as conns:
        await asyncio.gather(*(worker(c, i * interval / count) for i, c in enumerate(conns)))
    return summary(latencies, seconds)


async def measure(args: argparse.Namespace) -> None:
    from app.migrate import upgrade

    url = os.environ.get("TEST_POSTGRES_URL", DEFAULT_PG)
    await asyncio.to_thread(upgrade, url)
    ports = {"bare": free_port(), "intake": free_port()}
    paths = {"bare": "/hook", "intake": "/v1/webhooks/channex"}
    headers = {"bare": {}, "intake": {"X-Channex-Webhook-Secret": SECRET}}
    ctx = multiprocessing.get_context("spawn")
    procs = [
        ctx.Process(target=run_bare, args=(url, ports["bare"]), daemon=True),
        ctx.Process(target=run_intake, args=(url, ports["intake"], args.redis), daemon=True),
    ]
    for proc in procs:
        proc.start()
    try:
        for name in ports:
            await wait_ready(ports[name], paths[name], headers[name])
            # Warm-up, discarded: pools filled, statements prepared, code paths hot.
            await closed_loop(
                ports[name], paths[name], headers[name], WARMUP_SECONDS, args.connections
            )
        # Interleaved in short rounds (bare, intake, bare, …) so that whatever else the
        # machine does weighs on both alike.
        samples: dict[str, list[float]] = {name: [] for name in ports}
        for _ in range(args.rounds):
            for name in ports:
                samples[name] += await closed_loop(
                    ports[name], paths[name], headers[name], args.seconds / args.rounds,
                    args.connections,
                )  # fmt: skip
        full = {name: summary(samples[name], args.seconds) for name in ports}
        half = full["bare"]["rps"] / 2
        paced = {
            name: await open_loop(
                ports[name], paths[name], headers[name], args.seconds, half, args.connections
            )
            for name in ports
        }
    finally:
        for proc in procs:
            proc.terminate()
            proc.join()
    report(full, paced, half, args)


def report(
    full: dict[str, dict[str, float]],
    paced: dict[str, dict[str, float]],
    half: float,
    args: argparse.Namespace,
) -> None:
    mode = f"arq on {args.redis} (no worker here)" if args.redis else "embedded in-process jobs"
    print(f"intake jobs: {mode}; PostgreSQL, {POOL_SIZE} pooled connections per server")
    print(
        f"servers: uvicorn, 1 worker each, {UVICORN['loop']} loop, {UVICORN['http']},"
        " no access log, gc.freeze() after start-up"
    )
    print(
        f"load: one in-repo asyncio keep-alive client for both, {args.connections} connections,"
        f" {WARMUP_SECONDS:.0f} s warm-up, then {args.seconds:.0f} s closed loop (full speed,"
        f" in {args.rounds} interleaved rounds)"
        f" and {args.seconds:.0f} s open loop at half the bare rate"
    )
    print(f"{'':8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}   at {half:.0f} req/s: p50, p99 ms")
    for name in ("bare", "intake"):
        f, p = full[name], paced[name]
        print(
            f"{name:8} {f['rps']:8.0f} {f['p50_ms']:8.1f} {f['p99_ms']:8.1f}"
            f"   {p['p50_ms']:8.1f} {p['p99_ms']:8.1f}"
        )
    ratio = full["intake"]["rps"] / full["bare"]["rps"]
    print(f"intake / bare = {ratio:.2f} (target >= 0.80)")
    print(f"intake p99 at half rate = {paced['intake']['p99_ms']:.1f} ms (target < 50)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5, help="closed-loop rounds per target")
    parser.add_argument(
        "--redis",
        default=None,
        help="REDIS_URL for production mode (e.g. redis://127.0.0.1:6379/0)",
    )
    asyncio.run(measure(parser.parse_args()))


if __name__ == "__main__":
    main()
