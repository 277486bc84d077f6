"""Alert rules and alert history through GraphQL."""

from __future__ import annotations

from starlette.testclient import TestClient

from api.app import create_app
from catalog.service import Catalog
from catalog.store.store import Store
from tests.api.conftest import GraphQLClient
from tests.catalog.alerts.decided import Decided, settings
from tests.catalog.alerts.estate import REPORT

RULES = """{ alertRules { name when notify severity filters times forDuration lookback repeat
  since } }"""
ALERTS = """query($status: AlertStatus, $rule: String, $after: String) {
  alerts(status: $status, rule: $rule, first: 1, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id rule kind key status severity title count silenced startedAt firedAt resolvedAt
      details deliveries { destination action state attempts lastError } } } }"""


def test_rules_and_history(store: Store) -> None:
    alerts = settings(
        [{"name": "ops", "kind": "webhook", "url": "http://127.0.0.1:9/hook"}],
        rules=[
            {"name": "any-failure", "when": "run_failed", "notify": ["ops"], "tool": "airflow"},
            {"name": "flaky-source", "when": "sync_failing", "for": "1h", "times": 3},
        ],
    )
    decided = Decided(store, alerts)
    decided.fail()
    decided.recover()
    decided.fail()
    catalog = Catalog(store, clock=decided.clock, alerts=alerts)
    with TestClient(create_app(catalog=catalog)) as http:
        client = GraphQLClient(http)
        rules = client.data(RULES)["alertRules"]
        assert rules[0] == {
            "name": "any-failure",
            "when": "RUN_FAILED",
            "notify": ["ops"],
            "severity": "error",
            "filters": {"tool": ["airflow"]},
            "times": None,
            "forDuration": None,
            "lookback": None,
            "repeat": None,
            "since": rules[0]["since"],
        }
        assert rules[0]["since"] is not None
        assert (rules[1]["when"], rules[1]["forDuration"], rules[1]["times"]) == (
            "SYNC_FAILING",
            "1h",
            3,
        )

        page = client.data(ALERTS)["alerts"]
        assert page["totalCount"] == 2
        assert page["pageInfo"]["hasNextPage"]
        (newest,) = page["nodes"]
        assert (newest["status"], newest["kind"], newest["rule"]) == (
            "FIRING",
            "RUN_FAILED",
            "any-failure",
        )
        assert newest["details"]["pipeline"]["name"] == "etl"
        assert REPORT in [a["uri"] for a in newest["details"]["impact"]["assets"]]
        assert newest["deliveries"] == [
            {
                "destination": "ops",
                "action": "trigger",
                "state": "pending",
                "attempts": 0,
                "lastError": None,
            }
        ]
        after = page["pageInfo"]["endCursor"]
        (older,) = client.data(ALERTS, {"after": after})["alerts"]["nodes"]
        assert older["status"] == "RESOLVED"
        assert older["resolvedAt"] is not None
        assert [d["action"] for d in older["deliveries"]] == ["trigger", "resolve"]
        resolved = client.data(ALERTS, {"status": "RESOLVED"})["alerts"]
        assert resolved["totalCount"] == 1
        assert client.data(ALERTS, {"rule": "nope"})["alerts"]["totalCount"] == 0

        # Not served from the response cache: a resolution shows at once.
        decided.recover()
        assert client.data(ALERTS, {"status": "FIRING"})["alerts"]["totalCount"] == 0


def test_bad_arguments_are_named(store: Store) -> None:
    with TestClient(create_app(catalog=Catalog(store))) as http:
        client = GraphQLClient(http)
        (error,) = client.errors(ALERTS, {"status": "BURNING"})
        assert "BURNING" in error["message"]
        (error,) = client.errors(ALERTS, {"after": "not-a-cursor"})
        assert "after" in error["message"]
        assert client.data(RULES) == {"alertRules": []}
