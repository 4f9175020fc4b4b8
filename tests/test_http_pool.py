"""Pooled connections that check their socket cheaply (app/http_pool.py): the check answers as
httpcore's own does, and a connection the server closed is replaced, not reused."""

from __future__ import annotations

import asyncio
import socket

import httpx

from app.http_pool import (
    CheapCheckBackend,
    CheapCheckStream,
    cheap_check_transport,
    socket_readable,
)


def test_a_socket_is_readable_once_data_or_the_close_is_waiting() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        assert not socket_readable(ours)
        theirs.send(b"x")
        assert socket_readable(ours)
        ours.recv(1)
        theirs.close()
        assert socket_readable(ours)  # the b"" of the close
    assert socket_readable(None)


def test_the_transport_s_pool_uses_the_cheap_backend() -> None:
    # Reaches into httpx's and httpcore's internals: this fails if an upgrade moves them.
    transport = cheap_check_transport()
    assert isinstance(transport._pool._network_backend, CheapCheckBackend)


async def test_a_connection_the_server_closed_is_replaced_and_a_live_one_reused() -> None:
    connections: list[int] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        n = len(connections)
        connections.append(n)
        while True:
            try:
                await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                break
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
            if n == 0:  # the first connection is closed after one answer
                break
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server, httpx.AsyncClient(transport=cheap_check_transport()) as client:
        first = await client.get(f"http://127.0.0.1:{port}/")
        await asyncio.sleep(0.05)  # the server's close reaches the idle connection
        second = await client.get(f"http://127.0.0.1:{port}/")
        third = await client.get(f"http://127.0.0.1:{port}/")
        pool = client._transport._pool  # type: ignore[attr-defined]
        streams = [c._connection._network_stream for c in pool.connections]

    assert [r.text for r in (first, second, third)] == ["ok", "ok", "ok"]
    assert len(connections) == 2  # the closed one replaced once, the new one reused
    assert all(isinstance(s, CheapCheckStream) for s in streams)
