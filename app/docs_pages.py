"""/docs (Swagger UI) and /redoc (ReDoc) that work without the internet.

FastAPI's own pages load their scripts and styles from a CDN, so on a machine without a
network, or behind a proxy that blocks it, /docs stays blank. These pages load them from
ASSETS_PATH instead: Swagger UI and ReDoc's standalone bundle come from the fastapi-offline
package, installed with the service, and the pages' start-up scripts from app/docs_assets.
A Content-Security-Policy holds the pages to their own origin, so nothing can quietly come
from a CDN again.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_PATH = "/docs-assets"
OWN_ASSETS = Path(__file__).parent / "docs_assets"
# The package's folder of the files that FastAPI's pages would fetch from the CDN.
PACKAGE_ASSETS = ("fastapi_offline", "static")


def _policy(style_src: str) -> str:
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            f"style-src {style_src}",
            "img-src 'self' data:",  # Swagger UI's icons are data: URLs in its stylesheet
            "connect-src 'self'",  # the OpenAPI document, and "Try it out"
            "worker-src blob:",  # ReDoc runs its search index in a worker made from a blob
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        )
    )


SWAGGER_POLICY = _policy("'self'")
# ReDoc writes its styles into <style> elements (styled-components, and perfect-scrollbar's
# sheet as its bundle loads, before any nonce could be handed to it), so its page allows
# inline styles. Scripts stay 'self' only: that is what keeps injected markup from running.
REDOC_POLICY = _policy("'self' 'unsafe-inline'")

SWAGGER_PAGE = """\
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} - Swagger UI</title>
<link rel="icon" href="{assets}/favicon.png">
<link rel="stylesheet" href="{assets}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/swagger-init.js" data-openapi-url="{openapi}"></script>
</body>
</html>
"""

REDOC_PAGE = """\
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - ReDoc</title>
<link rel="icon" href="{assets}/favicon.png">
<link rel="stylesheet" href="{assets}/redoc.css">
</head>
<body>
<div id="redoc"></div>
<script src="{assets}/redoc.standalone.js"></script>
<script src="{assets}/redoc-init.js" data-openapi-url="{openapi}"></script>
</body>
</html>
"""


def install_docs_pages(app: FastAPI) -> None:
    """Serve /docs, /redoc and their assets on `app`, which must be built with
    `docs_url=None, redoc_url=None` (FastAPI's CDN pages would answer those paths first)."""
    if app.docs_url is not None or app.redoc_url is not None:
        raise ValueError("build the app with docs_url=None and redoc_url=None")
    assets = StaticFiles(directory=OWN_ASSETS, packages=[PACKAGE_ASSETS])
    app.mount(ASSETS_PATH, assets, name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        return _page(SWAGGER_PAGE, SWAGGER_POLICY, app, request)

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        return _page(REDOC_PAGE, REDOC_POLICY, app, request)


def _page(template: str, policy: str, app: FastAPI, request: Request) -> HTMLResponse:
    # Under a mount (the sandbox at /channex-sandbox) every URL starts with its prefix.
    root = str(request.scope.get("root_path", "")).rstrip("/")
    html = template.format(
        title=escape(app.title),
        assets=escape(root + ASSETS_PATH),
        openapi=escape(root + str(app.openapi_url)),
    )
    return HTMLResponse(html, headers={"Content-Security-Policy": policy})
