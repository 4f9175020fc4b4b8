"""The production stack of the fault benchmark as real processes: a PostgreSQL database of its
own, a Redis server of its own, the Channex sandbox, `channel-sync serve` and workers.

Processes are started through the e2e harness (tests/e2e/processes.py: a log file each, own
session, SIGTERM then SIGKILL). On top of it, a `Service` can be killed and started again (each
start logs to a file of its own), and `Stack.supervise` records a process that exits without
having been told to (name, exit code, the end of its log) and starts it again, as a supervisor
would; the sandbox is the exception, since its in-memory Channex dies with it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from app.settings import Settings
from tests.e2e.processes import STOP_SECONDS, Process, Processes, eventually

START_SECONDS = 60.0  # a process must listen (or migrate) within this long
RESTART_PAUSE_SECONDS = 2.0
BOX = "│╭╮╰╯─"  # typer prints tracebacks in rich frames


def channel_sync() -> str:
    """The `channel-sync` command of this interpreter's environment."""
    beside = Path(sys.executable).parent / "channel-sync"
    found = str(beside) if beside.exists() else shutil.which("channel-sync")
    if found is None:
        raise RuntimeError("the channel-sync command is not installed (pip install -e .)")
    return found


def clean_environment(settings: dict[str, str]) -> dict[str, str]:
    """This process's environment without any of the service's own variables, plus `settings`,
    so that nothing set in the shell (LOG_LEVEL, DATABASE_URL…) changes the run."""
    ours = {name.upper() for name in Settings.model_fields}
    env = {k: v for k, v in os.environ.items() if k.upper() not in ours}
    return {**env, **settings}


def run_command(argv: list[str]) -> str:
    """A short command to completion (createdb, git…); its output, raising on failure."""
    done = subprocess.run(argv, capture_output=True, text=True, timeout=START_SECONDS, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:2])} failed: {(done.stderr or done.stdout)[-500:]}")
    return done.stdout


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass(frozen=True)
class Death:
    """A process that exited without being told to."""

    name: str
    code: int | None
    at: float  # seconds since the start of the run
    tail: str


@dataclass
class Service:
    """One command that may be started many times; `current` is its latest process."""

    name: str
    argv: list[str]
    port: int | None = None
    current: Process | None = None
    expected_exit: bool = False
    starts: int = 0

    def exited(self) -> int | None:
        """The exit code once its process has exited, else None."""
        return None if self.current is None else self.current.popen.poll()

    def running(self) -> bool:
        return self.current is not None and self.current.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL, as the OOM killer or a lost machine would."""
        if self.current is not None and self.running():
            self.expected_exit = True
            self.current.popen.kill()

    def tail(self, lines: int = 2) -> str:
        """The last lines it printed, without the frames of a rich traceback."""
        text = self.current.output(40).splitlines() if self.current else []
        words = [line.strip(BOX + " ") for line in text]
        return " ".join([w for w in words if w][-lines:])[:300]


@dataclass
class Stack:
    """Everything the benchmark started; `close` stops it all, whatever state it is in."""

    workdir: Path
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    started_at: float = field(default_factory=time.monotonic)
    services: dict[str, Service] = field(default_factory=dict)
    deaths: list[Death] = field(default_factory=list)
    database: str | None = None
    pg: tuple[str, ...] = ("-h", "127.0.0.1", "-p", "5432", "-U", "postgres")
    _group: Processes | None = None

    @property
    def group(self) -> Processes:
        if self._group is None:
            self._group = Processes(self.workdir, self.env, self.workdir)
        return self._group

    def elapsed(self) -> float:
        return time.monotonic() - self.started_at

    def add(self, name: str, argv: list[str], port: int | None = None) -> Service:
        service = Service(name, argv, port)
        self.services[name] = service
        return service

    async def launch(self, service: Service) -> None:
        """Start the service (unless it runs) and wait until it listens, if it has a port."""
        if service.running():
            return
        service.starts += 1
        log_name = service.name if service.starts == 1 else f"{service.name}.{service.starts}"
        service.current = self.group.start(log_name, service.argv)
        service.expected_exit = False
        if service.port is not None:
            port = service.port

            async def listening() -> bool:
                return port_open(port)

            what = f"{service.name} listens on {port}"
            await eventually(listening, what, START_SECONDS, [service.current])

    async def migrate(self, command: str) -> None:
        await self.group.run("migrate", [command, "migrate"], START_SECONDS)

    def create_database(self, name: str) -> str:
        """A fresh database on the local PostgreSQL; its SQLAlchemy URL."""
        run_command(["dropdb", *self.pg, "--if-exists", name])
        run_command(["createdb", *self.pg, name])
        self.database = name
        return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"

    def drop_database(self) -> None:
        if self.database is not None:
            run_command(["dropdb", *self.pg, "--if-exists", "--force", self.database])
            self.database = None

    def redis(self, port: int) -> Service:
        """Redis on its own port, nothing kept on disk: a restart loses every key."""
        argv = ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                "--appendonly", "no", "--daemonize", "no", "--dir", str(self.workdir)]  # fmt: skip
        return self.add("redis", argv, port)

    async def restart_redis(self, down_seconds: float) -> float:
        """`shutdown nosave`, `down_seconds` without a server (a restarting host or container
        is away for seconds, not the few milliseconds of a bare respawn), then a new one on
        the same port; the seconds it was down in all."""
        redis = self.services["redis"]
        began = time.monotonic()
        redis.expected_exit = True
        run_command(["redis-cli", "-p", str(redis.port), "shutdown", "nosave"])
        if redis.current is not None:
            await asyncio.to_thread(redis.current.wait, time.monotonic() + STOP_SECONDS)
        await asyncio.sleep(down_seconds)
        await self.launch(redis)
        return time.monotonic() - began

    async def supervise(self, restartable: set[str]) -> None:
        """Forever: record processes that exited on their own and start them again."""
        while True:
            for service in list(self.services.values()):
                code = service.exited()
                if code is None or service.expected_exit:
                    continue
                self.deaths.append(Death(service.name, code, self.elapsed(), service.tail()))
                service.expected_exit = True  # recorded once
                if service.name not in restartable:
                    raise RuntimeError(f"{service.name} died (exit {code}): {service.tail()}")
                await asyncio.sleep(RESTART_PAUSE_SECONDS)
                await self.launch(service)
            await asyncio.sleep(0.25)

    async def _stop(self, services: list[Service]) -> None:
        for service in services:
            service.expected_exit = True
            if service.current is not None:
                service.current.terminate()
        deadline = time.monotonic() + STOP_SECONDS
        for service in services:
            if service.current is not None:
                await asyncio.to_thread(service.current.wait, deadline)

    async def close(self) -> dict[str, int | None]:
        """Stop every process and drop the database; the exit codes of the last processes.
        The service's processes stop together, then the sandbox, then Redis (which they use
        until the end)."""
        first = [s for s in self.services.values() if s.name not in ("sandbox", "redis")]
        last = [self.services[n] for n in ("sandbox", "redis") if n in self.services]
        await self._stop(first)
        for service in last:
            await self._stop([service])
        if self._group is not None:
            self._group.stop_all()  # anything else it started (migrate), already ended
        self.drop_database()
        return {s.name: s.exited() for s in [*first, *last]}
