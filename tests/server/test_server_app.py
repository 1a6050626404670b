"""The app as a whole: health, offline /docs, error shapes, startup."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from client.settings import Settings
from server import __version__
from tests.server.conftest import API

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_health_reports_database_and_broker(client: TestClient, settings: Settings) -> None:
    response = client.get(f"{API}/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["version"] == __version__
    backend = "sqlite" if settings.resolved_database_url.startswith("sqlite") else "postgresql"
    assert body["database"].startswith(backend)
    assert body["broker"] == "filesystem://"


@sqlite_only
def test_docs_work_offline(client: TestClient) -> None:
    """Swagger UI comes from the server itself: no CDN URL in the page, assets served here."""
    page = client.get("/docs")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    html = page.text
    assert not re.search(r"https?://", html), "the docs page must not load anything remote"
    scripts = re.findall(r'<script src="([^"]+)"', html)
    styles = re.findall(r'rel="stylesheet" href="([^"]+)"', html)
    assert scripts and styles
    for url in scripts + styles:
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 10_000, url
    assert "SwaggerUIBundle" in client.get(scripts[0]).text
    schema_url = re.search(r"url: '([^']+)'", html)
    assert schema_url is not None
    schema = client.get(schema_url.group(1)).json()
    assert schema["openapi"].startswith("3.0")  # what the bundled Swagger UI 4 renders
    assert f"{API}/experiments" in schema["paths"]
    assert client.get("/openapi.json").json()["openapi"].startswith("3.1")
    assert client.get("/redoc").status_code == 404  # redoc would need a CDN


@sqlite_only
def test_unknown_route_is_a_plain_404(client: TestClient) -> None:
    response = client.get(f"{API}/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


@sqlite_only
def test_startup_migrates_an_empty_database(settings: Settings, client: TestClient) -> None:
    """The lifespan upgraded the fresh SQLite file: the API can write and read at once."""
    assert settings.resolved_database_url.startswith("sqlite:///")
    assert client.get(f"{API}/experiments").json() == []
