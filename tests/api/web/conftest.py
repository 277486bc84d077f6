"""The web UI in Debian's Chromium (Playwright drives it), against a real server on the demo
estate. Every page records its requests and console errors for the tests to check."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright

from api.demo.estate import load_demo
from api.web import BUILD
from catalog.store.store import Store
from tests.peers.debian import ensure_debian_package

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
VIEWPORT = {"width": 1400, "height": 900}


@dataclass
class Recorded:
    """What a page asked for and complained about while a test drove it."""

    origin: str
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def foreign(self) -> list[str]:
        return [u for u in self.requests if not _same_origin(u, self.origin)]


def _same_origin(url: str, origin: str) -> bool:
    if url.startswith(("data:", "blob:", "about:")):
        return True  # inline, nothing fetched
    parts, base = urlsplit(url), urlsplit(origin)
    return (parts.scheme, parts.netloc) == (base.scheme, base.netloc)


@pytest.fixture(scope="module")
def playwright_session() -> Iterator[Playwright]:
    if not (BUILD / "index.html").is_file():
        pytest.fail("the web UI is not built: run `make install`")
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(playwright_session: Playwright) -> Iterator[Browser]:
    executable = ensure_debian_package(CHROMIUM, "chromium")
    browser = playwright_session.chromium.launch(executable_path=executable)
    yield browser
    browser.close()


def demo_store(tmp: Path) -> Store:
    store = Store(f"sqlite:///{tmp / 'demo.db'}")
    loaded = load_demo(store)
    assert loaded.misses == []
    return store


def open_page(browser: Browser, origin: str) -> tuple[Page, Recorded]:
    page = browser.new_page(viewport=VIEWPORT)  # type: ignore[arg-type]
    recorded = Recorded(origin)
    page.on("request", lambda request: recorded.requests.append(request.url))

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            recorded.console_errors.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda error: recorded.console_errors.append(str(error)))
    page.set_default_timeout(20_000)
    return page, recorded
