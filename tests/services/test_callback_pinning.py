"""Deliveries go to the address the callback URL check vetted (no DNS rebinding), with the
URL's host name kept for the Host header and for TLS."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.models import BookingDelivery, PmsEndpoint
from app.services import callback_urls
from app.services.callback_urls import CallbackUrlError, check_callback_url
from app.services.delivery import _send, new_secret, post_delivery
from app.settings import Settings
from tests.booking_fakes import booking_settings

PUBLIC = "93.184.216.34"


def settings(**overrides: object) -> Settings:
    return booking_settings("sqlite+aiosqlite://", **overrides)


@pytest.fixture
def rebinding_dns(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A resolver that answers a public address first and loopback afterwards (rebinding);
    returns the names looked up."""
    asked: list[str] = []

    async def resolve(host: str) -> list[str]:
        asked.append(host)
        return [PUBLIC] if len(asked) == 1 else ["127.0.0.1"]

    monkeypatch.setattr(callback_urls, "_resolve", resolve)
    return asked


@pytest.fixture
def sent() -> list[httpx.Request]:
    return []


@pytest.fixture
async def pms(sent: list[httpx.Request]) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose transport records each request instead of sending it."""

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(204)

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer), trust_env=False) as client:
        yield client


def endpoint(url: str) -> tuple[PmsEndpoint, BookingDelivery]:
    return PmsEndpoint(url=url, secret=new_secret()), BookingDelivery(message_id="msg_1")


@pytest.mark.parametrize(
    "url", ["https://100.64.1.1/hook", "https://[2002:7f00:1::]/hook", "https://[::ffff:10.0.0.1]/"]
)
async def test_shared_and_tunnelled_private_addresses_are_refused(url: str) -> None:
    with pytest.raises(CallbackUrlError, match="non-public"):
        await check_callback_url(url, settings())


async def test_a_name_with_any_private_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    async def resolve(host: str) -> list[str]:
        return [PUBLIC, "10.0.0.7"]

    monkeypatch.setattr(callback_urls, "_resolve", resolve)
    with pytest.raises(CallbackUrlError, match="non-public"):
        await check_callback_url("https://pms.example.com/hook", settings())


async def test_the_post_goes_to_the_vetted_address_not_a_second_dns_answer(
    rebinding_dns: list[str], pms: httpx.AsyncClient, sent: list[httpx.Request]
) -> None:
    row, delivery = endpoint("https://pms.example.com:8443/hook?v=1")

    status, _, _ = await post_delivery(pms, settings(), row, delivery, "{}")
    # The name now resolves to loopback: the next attempt is refused, nothing is sent.
    refused_status, _, error = await post_delivery(pms, settings(), row, delivery, "{}")

    assert status == 204
    assert rebinding_dns == ["pms.example.com", "pms.example.com"]  # once per attempt
    [request] = sent
    assert str(request.url) == f"https://{PUBLIC}:8443/hook?v=1"
    assert request.headers["host"] == "pms.example.com:8443"
    assert request.extensions["sni_hostname"] == "pms.example.com"
    assert request.headers["webhook-id"] == "msg_1"
    assert refused_status is None
    assert error.startswith("callback URL refused")


async def test_private_callbacks_when_allowed_go_to_the_url_unpinned(
    rebinding_dns: list[str], pms: httpx.AsyncClient, sent: list[httpx.Request]
) -> None:
    row, delivery = endpoint("http://127.0.0.1:9000/hook")

    status, _, _ = await post_delivery(
        pms, settings(allow_private_callbacks=True), row, delivery, "{}"
    )

    assert status == 204
    assert rebinding_dns == []
    [request] = sent
    assert str(request.url) == "http://127.0.0.1:9000/hook"
    assert request.headers["host"] == "127.0.0.1:9000"
    assert "sni_hostname" not in request.extensions


# A real TLS server on loopback, to show the pinned request still checks the certificate
# against the URL's host name, not against the IP it connects to.


@dataclass
class TlsServer:
    port: int
    trust: ssl.SSLContext
    hosts: list[str] = field(default_factory=list)
    server_names: list[str | None] = field(default_factory=list)


def _certificate(tmp: Path, name: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context with a certificate for `name`, client context trusting its CA)."""
    now = datetime.now(UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    cert_file, key_file = tmp / "leaf.pem", tmp / "leaf.key"
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cadata=ca.public_bytes(serialization.Encoding.PEM).decode())
    return server, client


@pytest.fixture
def server_name(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "pms.test"))


@pytest.fixture
async def tls_server(tmp_path: Path, server_name: str) -> AsyncIterator[TlsServer]:
    """An HTTPS server on 127.0.0.1 with a certificate for `server_name`; answers 204."""
    server_ctx, trust = _certificate(tmp_path, server_name)
    state = TlsServer(port=0, trust=trust)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode().lower().split("\r\n")
        headers = dict(line.split(": ", 1) for line in head[1:] if line)
        await reader.readexactly(int(headers.get("content-length", "0")))
        state.hosts.append(headers["host"])
        writer.write(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    def sni(_conn: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
        state.server_names.append(name)

    server_ctx.sni_callback = sni
    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=server_ctx)
    state.port = server.sockets[0].getsockname()[1]
    async with server:
        yield state


async def test_a_pinned_https_post_checks_the_certificate_against_the_host_name(
    tls_server: TlsServer,
) -> None:
    url = f"https://pms.test:{tls_server.port}/hook"
    async with httpx.AsyncClient(verify=tls_server.trust, trust_env=False) as http:
        response = await _send(http, url, ("127.0.0.1",), "{}", {})

    assert response.status_code == 204
    assert tls_server.hosts == [f"pms.test:{tls_server.port}"]
    assert tls_server.server_names == ["pms.test"]


@pytest.mark.parametrize("server_name", ["other.test"], indirect=True)
async def test_a_pinned_https_post_refuses_a_certificate_for_another_name(
    tls_server: TlsServer,
) -> None:
    url = f"https://pms.test:{tls_server.port}/hook"
    async with httpx.AsyncClient(verify=tls_server.trust, trust_env=False) as http:
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await _send(http, url, ("127.0.0.1",), "{}", {})
    assert tls_server.hosts == []
