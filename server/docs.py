"""Swagger UI served from the server itself, so /docs works on a closed lab network (DESIGN §10).

swagger-ui-bundle ships Swagger UI 4, which refuses documents that say "openapi: 3.1.0"; the docs
page therefore loads a copy of the schema labelled 3.0.3 (FastAPI's schema reads fine as such),
while /openapi.json stays the true 3.1 document for other tools.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

STATIC_PREFIX = "/static/swagger"
DOCS_SCHEMA_URL = "/docs/openapi.json"


def install_docs(app: FastAPI) -> None:
    """Mount the Swagger UI assets and add /docs (and the schema it loads)."""
    app.mount(STATIC_PREFIX, StaticFiles(directory=str(swagger_ui_path)), name="swagger")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=root + DOCS_SCHEMA_URL,
            title=f"{app.title} API",
            swagger_js_url=f"{root}{STATIC_PREFIX}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{STATIC_PREFIX}/swagger-ui.css",
            swagger_favicon_url=f"{root}{STATIC_PREFIX}/favicon-32x32.png",
        )

    @app.get(DOCS_SCHEMA_URL, include_in_schema=False)
    def swagger_schema() -> dict[str, Any]:
        return {**app.openapi(), "openapi": "3.0.3"}
