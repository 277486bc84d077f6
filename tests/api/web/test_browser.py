"""The web UI on the demo estate, in Debian's Chromium: the overview's failures across four
tools, the lineage explorer across every tool, a failed run's impact, linking a likely match,
GraphiQL without a CDN; no console errors and no request leaving the server's origin. With
auth on: a read token sees no write action, a write token does."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, Page, expect

from catalog.auth.tokens import Tokens
from catalog.config import AuthSettings
from catalog.records import Batch, EdgeRecord, NodeRef
from catalog.store.store import Store
from tests.api.web.conftest import SCREENSHOTS, Recorded, demo_store, open_page
from tests.peers.tempox import serve

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]

RAW_ORDERS = "s3://lake/raw/orders"
PREFECT_ORDERS = "postgres://warehouse:5432/analytics/public/orders"
TOOLS = ["airflow", "dagster", "openlineage", "prefect"]


def graph_nodes(page: Page) -> list[str]:
    graph = page.get_by_test_id("lineage-graph")
    expect(graph).to_have_attribute("data-tools", re.compile(r"\w"))
    return (graph.get_attribute("data-nodes") or "").splitlines()


def click_graph_node(page: Page, node_id: str) -> None:
    """A click where cytoscape drew the node (its canvas has no DOM element per node)."""
    x, y = page.evaluate(
        "id => { const p = window.tempoxGraph.$id(id).renderedPosition(); return [p.x, p.y]; }",
        node_id,
    )
    box = page.get_by_test_id("lineage-graph").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + x, box["y"] + y)


def check_clean(recorded: Recorded) -> None:
    assert recorded.requests, "the page made no request at all"
    assert recorded.foreign() == []
    assert recorded.console_errors == []


def test_the_demo_in_the_browser(browser: Browser, tmp_path: Path) -> None:
    store = demo_store(tmp_path)
    with serve(store) as origin:
        page, recorded = open_page(browser, origin)

        # Overview: the six failures of the last 7 days, from four tools.
        page.goto(f"{origin}/")
        rows = page.locator("table.failed-runs tbody tr")
        expect(rows).to_have_count(6)
        tools = sorted({t.strip() for t in rows.locator("td:nth-child(2) .tool").all_inner_texts()})
        assert tools == TOOLS
        expect(page.locator("table.failed-runs")).to_contain_text(
            "write_orders: RuntimeError: the orders export came back empty"
        )
        expect(page.locator("table.stale-assets")).to_contain_text(
            "postgres://warehouse:5432/daily_revenue"
        )
        expect(page.locator("table.slower-tasks")).to_contain_text("refresh_aggregates")
        expect(page.locator("table.sources tbody tr")).to_have_count(4)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "overview.png", full_page=True)

        # The failed Airflow run: its impact reaches Dagster's and Prefect's assets.
        airflow_failure = rows.filter(has=page.locator(".tool", has_text="airflow")).filter(
            has_text="tempox_producer"
        )
        airflow_failure.get_by_role("link", name="tempox_producer").click()
        expect(page).to_have_url(re.compile(r"/runs/\d+$"))
        expect(page.locator(".run-error")).to_contain_text("the orders export came back empty")
        impact = page.locator("table.impact tbody tr")
        dagster_asset = impact.filter(has_text="postgres://warehouse:5432/orders")
        expect(dagster_asset.locator(".tool")).to_have_text(["dagster"])
        prefect_asset = impact.filter(has_text="s3://reports/revenue_report")
        expect(prefect_asset.locator(".tool")).to_contain_text(["prefect"])
        expect(page.locator("table.task-runs tbody tr").first).to_contain_text("write_orders")
        run_url = page.url

        # The lineage explorer from the lake's orders, set up with its controls: every tool.
        page.get_by_role("link", name="Lineage", exact=True).click()
        page.get_by_label("Start kind").select_option("asset")
        page.get_by_label("Start", exact=True).fill(RAW_ORDERS)
        page.get_by_role("button", name="Show").click()
        page.get_by_label("Direction").select_option("DOWNSTREAM")
        page.get_by_label("Depth").fill("10")
        expect(page).to_have_url(re.compile(r"asset=s3%3A%2F%2Flake%2Fraw%2Forders.*depth=10"))
        expect(page.get_by_test_id("lineage-graph")).to_have_attribute(
            "data-tools", " ".join(TOOLS)
        )
        before = graph_nodes(page)
        assert {RAW_ORDERS, "s3://reports/revenue_report", "refresh_revenue_dashboard"} <= set(
            before
        )
        assert PREFECT_ORDERS not in before
        drawn = page.evaluate("window.tempoxGraph.nodes().length")
        assert drawn == len(before)
        page.screenshot(path=SCREENSHOTS / "lineage.png")
        lineage_url = page.url

        # As of a time before any of it was seen, the lake's orders stood alone.
        page.get_by_label("As of").fill("2020-01-01T00:00")
        expect(page).to_have_url(re.compile(r"asOf=2020-01-0"))
        expect(page.get_by_test_id("graph-size")).to_contain_text("1 node, 0 edges")
        page.get_by_role("button", name="now").click()
        expect(page.get_by_test_id("graph-size")).to_contain_text(f"{len(before)} nodes")

        # Click-through: the start node opens its asset page, which offers the likely match.
        click_graph_node(page, "asset:1")
        panel = page.get_by_label("Selected node")
        expect(panel).to_contain_text(RAW_ORDERS)
        expect(panel).to_contain_text("lake/raw/orders asset rule lake → s3://lake")  # Dagster's
        panel.get_by_role("link", name="Asset page").click()
        expect(page.locator("h1")).to_contain_text(RAW_ORDERS)
        expect(page.locator("table.named-by")).to_contain_text("lake/raw/orders")
        match = page.locator("ul.matches li").filter(has_text=PREFECT_ORDERS)
        match.get_by_role("button", name="Link as the same").click()
        expect(page.locator("ul.links")).to_contain_text(PREFECT_ORDERS)

        # The link changes the graph: the Prefect table is now reached, by a link made by hand.
        page.goto(lineage_url)
        expect(page.get_by_test_id("graph-size")).not_to_contain_text(f"{len(before)} nodes")
        assert PREFECT_ORDERS in graph_nodes(page)
        linked = page.evaluate("window.tempoxGraph.edges('.linked').length")
        assert linked >= 1

        # Deep links load on their own; GraphiQL comes from the server, at both addresses.
        page.goto(run_url)
        expect(page.locator("table.impact")).to_be_visible()
        page.goto(f"{origin}/search?q=orders")
        expect(page.locator("table.asset-results")).to_contain_text(RAW_ORDERS)
        search = page.get_by_label("Search assets and pipelines")
        search.fill("producer")
        search.press("Enter")
        expect(page).to_have_url(re.compile(r"/search\?q=producer$"))
        expect(page.locator("table.pipeline-results")).to_contain_text("tempox_producer")
        for path in ("/graphiql", "/graphql"):
            page.goto(origin + path)
            expect(page.locator(".graphiql-container")).to_be_visible()
            expect(
                page.locator(".graphiql-doc-explorer-title, .graphiql-sidebar")
            ).not_to_have_count(0)
        page.close()
        check_clean(recorded)


def test_a_read_token_sees_no_write_action(browser: Browser, tmp_path: Path) -> None:
    store = demo_store(tmp_path)
    tokens = Tokens(store)
    reader = tokens.create("reader", ["read"], by="cli:test")[1]
    writer = tokens.create("writer", ["read", "write"], by="cli:test")[1]
    asset_page = f"/asset?uri={quote(RAW_ORDERS, safe='')}"
    with serve(store, AuthSettings(required=True)) as origin:
        page, recorded = open_page(browser, origin)
        sent: list[str | None] = []
        page.on(
            "request",
            lambda r: sent.append(r.headers.get("authorization")) if r.method == "POST" else None,
        )

        page.goto(origin + asset_page)
        page.get_by_label("API token").fill("tpx_not_a_token")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_be_visible()

        page.get_by_label("API token").fill(reader)
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator(".viewer")).to_contain_text("token:reader")
        expect(page.locator("ul.matches")).to_contain_text(PREFECT_ORDERS)
        expect(page.get_by_role("button", name="Link as the same")).to_have_count(0)
        assert f"Bearer {reader}" in sent

        page.get_by_role("button", name="Sign out").click()
        page.get_by_label("API token").fill(writer)
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator(".viewer")).to_contain_text("token:writer")
        expect(page.get_by_role("button", name="Link as the same")).to_have_count(2)
        page.reload()  # the token lives in the tab's sessionStorage
        expect(page.locator(".viewer")).to_contain_text("token:writer")
        page.close()

        assert recorded.foreign() == []
        # Only the refusals of the bad token and of the signed-out tab: the sign-in they ask for.
        assert all("401" in e for e in recorded.console_errors), recorded.console_errors


def test_a_graph_of_more_than_200_nodes_is_laid_out_without_overlaps(
    browser: Browser, tmp_path: Path
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'wide.db'}")
    root = "s3://lake/raw/events"
    for i, tool in enumerate(["airflow", "dagster", "prefect", "openlineage"]):
        source = store.ensure_source(tool, tool)
        edges: list[EdgeRecord] = []
        for j in range(3 if i < 3 else 1):
            middle = f"s3://lake/{tool}/part_{j}"
            edges.append(EdgeRecord(NodeRef.asset(root), NodeRef.asset(middle)))
            edges += [
                EdgeRecord(NodeRef.asset(middle), NodeRef.asset(f"{middle}/table_{k}"))
                for k in range(25)
            ]
        store.write_batch(source, Batch(cursor={}, edges=tuple(edges)))
    with serve(store) as origin:
        page, recorded = open_page(browser, origin)
        page.goto(f"{origin}/lineage?asset={quote(root, safe='')}&direction=DOWNSTREAM&depth=2")
        expect(page.get_by_test_id("graph-size")).to_contain_text("261 nodes, 260 edges")
        overlaps = page.evaluate(
            """() => {
                const boxes = window.tempoxGraph.nodes().map(n => n.boundingBox());
                let overlaps = 0;
                for (let i = 0; i < boxes.length; i++)
                    for (let j = i + 1; j < boxes.length; j++) {
                        const a = boxes[i], b = boxes[j];
                        if (a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2) overlaps++;
                    }
                return overlaps;
            }"""
        )
        assert overlaps == 0
        zoom = page.evaluate("window.tempoxGraph.zoom()")
        page.get_by_role("button", name="+").click()
        assert page.evaluate("window.tempoxGraph.zoom()") > zoom
        graphql_posts = [u for u in recorded.requests if u.endswith("/graphql")]
        assert len(graphql_posts) == 2  # who the viewer is, then the page's one request
        page.close()
        check_clean(recorded)
