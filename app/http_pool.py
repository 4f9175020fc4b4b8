"""httpx transports whose pooled connections check their socket cheaply.

Every time a request enters or leaves httpcore's connection pool, the pool asks each of its
connections whether the server closed it (`has_expired`: is the idle socket readable?). The
anyio stream answers by building a dict of all its socket attributes, a getpeername() call
among them, to hand back the raw socket. With a few dozen connections to Channex that was
8 % of a worker's CPU in a burst of bookings (py-spy, benchmarks/bookings_speed.py). Here
each stream keeps its raw socket from the start, and the check is one poll() of it, as
httpcore's own check is once it has the socket.

The backend is put in place through the pool's `_network_backend`, which httpx gives no
argument for; tests/test_http_pool.py fails if an upgrade of httpx or httpcore moves it.
"""

from __future__ import annotations

import select
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

# httpcore's SOCKET_OPTION, spelled out (httpcore does not export it).
SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)


class CheapCheckStream(httpcore.AsyncNetworkStream):
    """A network stream whose readability check polls the raw socket it keeps."""

    def __init__(self, stream: httpcore.AsyncNetworkStream) -> None:
        self._stream = stream
        self._socket: socket.socket | None = stream.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        return await self._stream.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        await self._stream.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109  httpcore's interface
    ) -> httpcore.AsyncNetworkStream:
        return CheapCheckStream(await self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return socket_readable(self._socket)
        if info == "socket":
            return self._socket
        return self._stream.get_extra_info(info)


def socket_readable(sock: socket.socket | None) -> bool:
    """Whether a read would return at once (data, or the b"" of a closed connection); a
    socket that is gone counts as readable, as httpcore counts it."""
    fd = -1 if sock is None else sock.fileno()
    if fd < 0:
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


class CheapCheckBackend(httpcore.AsyncNetworkBackend):
    """Another backend's connections, each wrapped in a CheapCheckStream."""

    def __init__(self, backend: httpcore.AsyncNetworkBackend) -> None:
        self._backend = backend

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109  httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._backend.connect_tcp(host, port, timeout, local_address, socket_options)
        return CheapCheckStream(stream)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109  httpcore's interface
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._backend.connect_unix_socket(path, timeout, socket_options)
        return CheapCheckStream(stream)

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


def cheap_check_transport(**kwargs: Any) -> httpx.AsyncHTTPTransport:
    """httpx's own transport (`kwargs` are its arguments), its pool on a CheapCheckBackend."""
    transport = httpx.AsyncHTTPTransport(**kwargs)
    pool = transport._pool  # see the module docstring
    pool._network_backend = CheapCheckBackend(pool._network_backend)
    return transport
