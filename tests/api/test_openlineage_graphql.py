"""Column lineage and OpenLineage facets through GraphQL, after the CLL scenario was pushed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from api.app import create_app
from catalog.service import Catalog
from catalog.store.store import Store
from tests.api.conftest import GraphQLClient
from tests.corpus import events

TBL1 = "file:/tmp/cll_test/tbl1"


@pytest.fixture
def ol_client(store: Store) -> Iterator[GraphQLClient]:
    with TestClient(create_app(catalog=Catalog(store))) as http:
        for event in events("CLL"):
            assert http.post("/api/v1/lineage", json=event).status_code == 201
        yield GraphQLClient(http)


def test_column_lineage_of_a_dataset(ol_client: GraphQLClient) -> None:
    asset = ol_client.operation("ColumnLineage", {"uri": TBL1})["asset"]
    assert asset["__typename"] == "Asset"
    got = {
        (c["column"], c["inputAsset"]["uri"].rsplit("/", 1)[1], c["inputColumn"])
        for c in asset["columnLineage"]
    }
    assert ("ident", "cll_source1", "a") in got
    assert ("agg", "cll_source2", "c") in got
    assert {c["source"]["name"] for c in asset["columnLineage"]} == {"openlineage"}
    trans = next(
        c["transformations"]
        for c in asset["columnLineage"]
        if (c["column"], c["inputColumn"]) == ("trans", "b")
    )
    assert {
        "type": "DIRECT",
        "subtype": "TRANSFORMATION",
        "description": "",
        "masking": False,
    } in trans
    assert set(asset["facets"]["facets"]) >= {"columnLineage", "schema", "symlinks"}

    only = ol_client.operation("ColumnLineage", {"uri": TBL1, "column": "agg"})["asset"]
    assert {c["column"] for c in only["columnLineage"]} == {"agg"}


def test_run_facets_keep_every_facet(ol_client: GraphQLClient) -> None:
    run = ol_client.data(
        '{ run(source: "openlineage", externalId: "019127de-fd25-7707-bfa4-3ec02693a531") '
        "{ ... on Run { status facets } } }"
    )["run"]
    assert run["status"] == "SUCCESS"
    facets = run["facets"]["run_facets"]
    assert facets["processing_engine"]["name"] == "spark"
    assert "spark_applicationDetails" in facets  # from the START event, kept after COMPLETE
    assert run["facets"]["job_facets"]["jobType"]["integration"] == "SPARK"
