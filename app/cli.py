"""The `channel-sync` command: serve, worker, migrate, rotate-keys, status, openapi, sandbox."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from app.logs import configure_logging
from app.settings import Settings, get_settings

# An idle keep-alive connection is kept longer than clients keep theirs (httpx: 5 s; load
# balancers: about 60 s): closed by us at the moment a client reuses it, the client's request
# fails unsent, and Channex retries a webhook only a minute later. uvicorn's default, 5 s,
# did that to 1 booking webhook in 2,000 under load (benchmarks/bookings_speed.py).
KEEP_ALIVE_SECONDS = 75

if TYPE_CHECKING:
    from fastapi import FastAPI

    from app.services.status import Status

app = typer.Typer(help="channel-sync: PMS <-> Channex.io sync service", no_args_is_help=True)


def _configure_logging() -> None:
    settings = get_settings()
    configure_logging(settings.log_level, settings.channex_log_level, settings.log_format)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    sandbox: Annotated[
        bool, typer.Option(help="Talk to a Channex sandbox inside this process, not Channex")
    ] = False,
) -> None:
    """Run the API (SQLite and in-process jobs unless DATABASE_URL / REDIS_URL say otherwise)."""
    from app.main import create_app
    from app.sandbox.app import create_sandbox_app
    from app.sandbox_mode import reset_sandbox_database, sandbox_banner, sandbox_settings

    _configure_logging()
    settings = get_settings()
    if not sandbox:
        api = create_app(settings)
        # Everything imported and built so far lives as long as the process: frozen, the
        # cyclic GC stops re-walking it in every full collection, pauses that tripled the
        # webhook intake's p99 under load (benchmarks/webhook_intake.py).
        gc.freeze()
        _run_api(api, host, port)
        return
    sandbox_api = create_sandbox_app()
    settings = sandbox_settings(settings, sandbox_api, port=port)
    reset_sandbox_database(settings)
    typer.echo(sandbox_banner(settings, port))
    api = create_app(settings, sandbox=sandbox_api)
    _run_api(api, host, port)


def _run_api(api: FastAPI, host: str, port: int) -> None:
    import uvicorn

    uvicorn.run(
        api,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )


@app.command("sandbox")
def run_sandbox(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8081,
    api_key: Annotated[str, typer.Option(help="The user-api-key it accepts")] = "sandbox-key",
    time_scale: Annotated[float, typer.Option(help="1.0 = real time; 0.01 = 100x faster")] = 1.0,
    seed: Annotated[int | None, typer.Option(help="Seed for injected faults")] = None,
) -> None:
    """Run a Channex sandbox alone (its API at http://HOST:PORT/api/v1)."""
    from app.sandbox.config import SandboxConfig
    from app.sandbox.server import run

    _configure_logging()
    run(host, port, SandboxConfig(api_key=api_key, time_scale=time_scale, seed=seed))


@app.command()
def worker(
    queue: Annotated[
        list[str] | None,
        typer.Option(help="Queue(s) to serve (bookings, ari, full_sync, default); all if omitted"),
    ] = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(help="Serve this process's metrics at :PORT/metrics (WORKER_METRICS_PORT)"),
    ] = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Exit 0 if this host's workers are alive (recent health keys in Redis), else 1",
        ),
    ] = False,
) -> None:
    """Run arq workers (needs REDIS_URL); they outlive Redis outages and reconnect."""
    from app.jobs.spec import ALL_QUEUES
    from app.jobs.worker import workers_healthy
    from app.worker_process import run_workers

    settings = get_settings()
    if not settings.redis_url:
        typer.echo("REDIS_URL is not set: jobs run inside `channel-sync serve`.", err=True)
        raise typer.Exit(2)
    queues = queue or list(ALL_QUEUES)
    unknown = sorted(set(queues) - set(ALL_QUEUES))
    if unknown:
        typer.echo(f"unknown queue(s) {unknown}; the queues are {list(ALL_QUEUES)}", err=True)
        raise typer.Exit(2)
    if check:
        healthy = asyncio.run(workers_healthy(settings, queues))
        typer.echo("healthy" if healthy else "unhealthy: no recent health key", err=not healthy)
        raise typer.Exit(0 if healthy else 1)
    if metrics_port is not None:
        settings = settings.model_copy(update={"worker_metrics_port": metrics_port})
    _configure_logging()
    asyncio.run(run_workers(settings, queues))


@app.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision")] = "heads",
) -> None:
    """Apply database migrations (a release step on PostgreSQL)."""
    from app.migrate import upgrade

    upgrade(get_settings().database_url, revision)
    typer.echo(f"database migrated to {revision}")


@app.command("rotate-keys")
def rotate_keys() -> None:
    """Re-encrypt stored guest data and PMS signing secrets under the first of
    PERSONAL_DATA_KEYS (then the old keys can be dropped)."""
    settings = get_settings()
    if not settings.personal_data_keys:
        typer.echo("PERSONAL_DATA_KEYS is not set: there is no key to rotate to.", err=True)
        raise typer.Exit(2)
    _configure_logging()
    changed = asyncio.run(_rotate_keys(settings))
    typer.echo(f"re-encrypted {changed} row(s)")


async def _rotate_keys(settings: Settings) -> int:
    """One transaction: every row is under the new key afterwards, or none is changed."""
    from app.db import create_engine, create_session_factory
    from app.services.key_rotation import rotate_stored_keys

    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as session:
            changed = await rotate_stored_keys(session, settings)
            await session.commit()
    finally:
        await engine.dispose()
    return changed


@app.command()
def status() -> None:
    """Each organization's properties and ARI, and what waits for an operator; exits 1 when
    something does (for a cron job or a shell), 0 otherwise."""
    from app.services.status import render_status

    report = asyncio.run(_read_status(get_settings()))
    typer.echo(render_status(report))
    raise typer.Exit(1 if report.needs_operator else 0)


async def _read_status(settings: Settings) -> Status:
    from app.db import create_engine, create_session_factory
    from app.services.status import read_status

    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as session:
            return await read_status(session)
    finally:
        await engine.dispose()


@app.command()
def openapi(
    output: Annotated[Path, typer.Option(help="Where to write the document")] = Path(
        "openapi.json"
    ),
) -> None:
    """Write the OpenAPI document generated from the app."""
    from app.openapi import render_openapi

    output.write_text(render_openapi())
    typer.echo(f"wrote {output}")


if __name__ == "__main__":  # pragma: no cover
    app()
