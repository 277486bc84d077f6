"""The web UI's routes: its pages are deep links answered with the app's shell, its bundle is
served from the server itself, and it shadows none of the API's paths."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from api import web
from api.app import create_app
from catalog.service import Catalog

PAGES = ["/", "/search?q=orders", "/lineage?asset=s3%3A%2F%2Flake", "/runs/12", "/asset?uri=x"]


@pytest.fixture
def http(catalog: Catalog) -> Iterator[TestClient]:
    with TestClient(create_app(catalog=catalog)) as client:
        yield client


@pytest.fixture
def built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in build, so these tests do not depend on npm having run."""
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "index-abc.js").write_text("console.log('tempox')")
    (tmp_path / "index.html").write_text(
        '<!doctype html><script type="module" src="/static/assets/index-abc.js"></script>'
    )
    monkeypatch.setattr(web, "BUILD", tmp_path)
    return tmp_path


@pytest.mark.usefixtures("built")
def test_every_page_is_the_shell_and_its_bundle_is_served(http: TestClient) -> None:
    for path in [*PAGES, "/graphiql", "/signin"]:
        page = http.get(path)
        assert page.status_code == 200, path
        assert page.headers["content-type"].startswith("text/html")
        assert "/static/assets/index-abc.js" in page.text
    script = http.get("/static/assets/index-abc.js")
    assert script.status_code == 200
    assert "tempox" in script.text
    assert http.get("/static/assets/missing.js").status_code == 404


@pytest.mark.usefixtures("built")
def test_graphiql_in_a_browser_is_the_bundled_app_not_a_cdn(http: TestClient) -> None:
    page = http.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "/static/assets/index-abc.js" in page.text
    assert "unpkg" not in page.text
    assert "jsdelivr" not in page.text


@pytest.mark.usefixtures("built")
def test_the_api_paths_are_not_shadowed(http: TestClient) -> None:
    assert http.get("/healthz").json()["status"] == "ok"
    answer = http.post("/graphql", json={"query": "{ viewer { name } }"})
    assert answer.json() == {"data": {"viewer": {"name": "anonymous"}}}
    intake = http.get("/api/v1/lineage")
    assert not intake.headers.get("content-type", "").startswith("text/html")
    for path in ["/metrics", "/nope", "/runs", "/api/v1/namespaces"]:
        response = http.get(path)
        assert not response.headers.get("content-type", "").startswith("text/html"), path


def test_without_a_build_the_pages_say_how_to_build(
    http: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(web, "BUILD", tmp_path / "absent")
    html = {"accept": "text/html"}
    for response in [http.get("/"), http.get("/graphql", headers=html), http.get("/static/a.js")]:
        assert response.status_code == 503
        assert "make install" in response.text
        assert "GraphiQL" in response.text
    assert http.get("/healthz").status_code == 200


def test_the_real_build_fetches_nothing_from_elsewhere() -> None:
    if not (web.BUILD / "index.html").is_file():
        pytest.skip("the web UI is not built here (`make install` builds it)")
    shell = (web.BUILD / "index.html").read_text()
    assert re.findall(r'(?:src|href)="(https?:)?//', shell) == []
    for css in web.BUILD.glob("assets/*.css"):
        urls = re.findall(r"url\(([^)]*)\)", css.read_text())
        assert [u for u in urls if re.match(r"['\"]?(https?:)?//", u)] == [], css.name
