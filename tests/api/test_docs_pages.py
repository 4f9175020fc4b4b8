"""/docs and /redoc load everything from the service itself (app/docs_pages.py): no URL in
their HTML names another host, and each asset they name is served with its content type.
The real browser check, with every other host unreachable, is tests/e2e/test_docs_browser.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from html.parser import HTMLParser

import httpx
import pytest

from app.main import SANDBOX_PREFIX, create_app
from app.sandbox.app import create_sandbox_app
from app.settings import Settings

# The pages do not touch the database: one engine is enough.
pytestmark = pytest.mark.parametrize("migrated_url", ["sqlite"], indirect=True)

CONTENT_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".png": "image/png",
    ".json": "application/json",
}


class References(HTMLParser):
    """Every URL the page makes the browser fetch: src, href and data-*-url attributes, and
    ReDoc's spec-url."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            fetched = name in ("src", "href", "spec-url") or name.endswith("-url")
            if fetched and value is not None:
                self.urls.append(value)


def references(html: str) -> list[str]:
    parser = References()
    parser.feed(html)
    return parser.urls


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its sandbox mounted, as `serve --sandbox` builds it; no lifespan, as
    neither the pages nor their assets need one."""
    app = create_app(settings, sandbox=create_sandbox_app())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


@pytest.mark.parametrize(
    ("page", "needs"),
    [
        ("/docs", {"swagger-ui-bundle.js", "swagger-ui.css", "swagger-init.js", "openapi.json"}),
        ("/redoc", {"redoc.standalone.js", "redoc-init.js", "openapi.json"}),
        (f"{SANDBOX_PREFIX}/docs", {"swagger-ui-bundle.js", "swagger-init.js", "openapi.json"}),
        (f"{SANDBOX_PREFIX}/redoc", {"redoc.standalone.js", "redoc-init.js", "openapi.json"}),
    ],
)
async def test_page_assets_are_served_by_the_service(
    client: httpx.AsyncClient, page: str, needs: set[str]
) -> None:
    response = await client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    urls = references(response.text)
    assert needs <= {url.rsplit("/", 1)[-1] for url in urls}
    prefix = page.removesuffix("/docs").removesuffix("/redoc")
    for url in urls:
        # Same origin: a path of this app (under the sandbox's mount for its pages).
        assert url.startswith(f"{prefix}/"), url
        assert not url.startswith("//"), url
        asset = await client.get(url)
        assert asset.status_code == 200, url
        suffix = url[url.rindex(".") :]
        assert asset.headers["content-type"].startswith(CONTENT_TYPES[suffix]), url


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_pages_allow_scripts_from_their_own_origin_only(
    client: httpx.AsyncClient, page: str
) -> None:
    policy = (await client.get(page)).headers["content-security-policy"]
    directives = dict(item.split(" ", 1) for item in policy.split("; "))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["connect-src"] == "'self'"


async def test_swagger_ui_allows_styles_from_its_own_origin_only(
    client: httpx.AsyncClient,
) -> None:
    policy = (await client.get("/docs")).headers["content-security-policy"]
    assert "style-src 'self';" in policy


async def test_openapi_document_leaves_the_pages_out(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert not {"/docs", "/redoc", "/docs/oauth2-redirect"} & set(paths)
