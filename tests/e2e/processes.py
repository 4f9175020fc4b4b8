"""Service processes for the deployment tests and benchmarks: start a command, wait until it
answers, stop it with SIGTERM, and show what every process printed when something fails.

Each process writes to its own log file (a pipe nobody reads would fill and block it) and
runs in its own session, so a process that ignores SIGTERM is killed with its children.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests import waiting

# arq gives running jobs 20 s after SIGTERM (app/jobs/worker.py), uvicorn a few.
STOP_SECONDS = 30.0
TAIL_LINES = 80


class ProcessExitedError(AssertionError):
    """A process that should be running has exited."""


@dataclass
class Process:
    """One started command and the file it prints to."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def output(self, lines: int = TAIL_LINES) -> str:
        """The last `lines` lines it printed."""
        text = self.log.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def check_running(self) -> None:
        code = self.popen.poll()
        if code is not None:
            raise ProcessExitedError(f"{self.name} exited with {code}:\n{self.output()}")

    def terminate(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)

    def wait(self, deadline: float) -> int:
        """Its exit code, waiting until the monotonic `deadline`; killed (with its session)
        if still running then, so nothing outlives the test."""
        try:
            return self.popen.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            return self.popen.wait(5)


class Processes:
    """The processes of one test: started in `cwd` with `env`, logs in `logs`."""

    def __init__(self, cwd: Path, env: Mapping[str, str], logs: Path) -> None:
        self.cwd, self.env, self.logs = cwd, dict(env), logs
        self.started: list[Process] = []

    def start(
        self, name: str, argv: Sequence[str | Path], env: Mapping[str, str] | None = None
    ) -> Process:
        """Start `argv` with the group's environment updated by `env`."""
        log = self.logs / f"{name}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(
                [str(arg) for arg in argv],
                cwd=self.cwd,
                env={**self.env, **(env or {})},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process = Process(name, popen, log)
        self.started.append(process)
        return process

    async def run(
        self,
        name: str,
        argv: Sequence[str | Path],
        seconds: float,
        env: Mapping[str, str] | None = None,
    ) -> str:
        """Run a command to its end (within `seconds`); fails unless it exits 0."""
        process = self.start(name, argv, env)
        # A thread waits, so that servers in this event loop keep answering meanwhile.
        code = await asyncio.to_thread(process.wait, time.monotonic() + seconds)
        assert code == 0, f"{name} exited with {code}:\n{process.output()}"
        return process.output()

    def stop_all(self, seconds: float = STOP_SECONDS) -> dict[str, int]:
        """SIGTERM to every process at once, then their exit codes (-9: had to be killed)."""
        for process in self.started:
            process.terminate()
        deadline = time.monotonic() + seconds
        return {process.name: process.wait(deadline) for process in self.started}

    def report(self) -> str:
        return "\n\n".join(
            f"--- {p.name} (exit {p.popen.poll()}) ---\n{p.output()}" for p in self.started
        )


@contextmanager
def processes(cwd: Path, env: Mapping[str, str], logs: Path) -> Iterator[Processes]:
    """Processes stopped when the block ends; a failure inside carries every one's output."""
    logs.mkdir(parents=True, exist_ok=True)
    group = Processes(cwd, env, logs)
    try:
        yield group
    except BaseException as error:
        group.stop_all()
        error.add_note(group.report())
        raise
    finally:
        group.stop_all()  # a no-op for those already stopped


async def eventually(
    check: Callable[[], Awaitable[bool]],
    what: str,
    seconds: float,
    running: Sequence[Process] = (),
) -> None:
    """Poll `check` until it holds; fails after `seconds` or as soon as a process of
    `running` exits. The state lives in other processes: there is no event to wait on."""

    async def holds() -> bool:
        for process in running:
            process.check_running()
        return await check()

    try:
        await waiting.eventually(holds, seconds, poll=0.2)
    except TimeoutError:
        raise AssertionError(f"not within {seconds:.0f} s: {what}") from None


async def wait_for_http(url: str, process: Process, seconds: float = 60.0) -> None:
    """Until GET `url` answers 200 (the process listens and is ready)."""

    async def answers() -> bool:
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                return (await client.get(url)).status_code == 200
        except httpx.TransportError:
            return False

    await eventually(answers, f"{process.name} answers 200 at {url}", seconds, [process])
