"""``[alerts]`` in the settings file: the issue's shape as written, and every mistake named."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from catalog.alerts.settings import PAGERDUTY_URL, DestinationKind, RuleKind
from catalog.config import load_settings
from catalog.errors import ConfigError

ISSUE = """
[[alerts.destinations]]
name = "ops"
kind = "webhook"            # slack | pagerduty | webhook | alertmanager
url = "http://127.0.0.1:9999/hook"
[[alerts.rules]]
name = "any-failure"
when = "run_failed"         # run_failed | asset_stale | sync_failing | task_slower | check_failed
notify = ["ops"]
"""

FULL = """
[alerts]
interval = "30s"
public_url = "https://tempox.example.com/"

[[alerts.destinations]]
name = "chat"
kind = "slack"
url_env = "SLACK_WEBHOOK_URL"

[[alerts.destinations]]
name = "pager"
kind = "pagerduty"
routing_key_env = "PAGERDUTY_ROUTING_KEY"

[[alerts.destinations]]
name = "am"
kind = "alertmanager"
url = "http://alertmanager:9093"

[[alerts.destinations]]
name = "hook"
kind = "webhook"
url = "https://hooks.example.com/tempox"
secret_env = "TEMPOX_WEBHOOK_SECRET"

[[alerts.rules]]
name = "nightly-etl"
when = "run_failed"
tool = ["airflow", "dagster"]
pipeline = "etl_*"
tag = "nightly"
times = 2
severity = "critical"
repeat = "4h"
notify = ["pager", "chat"]

[[alerts.rules]]
name = "source-down"
when = "sync_failing"
for = "1h"
notify = ["am"]

[[alerts.rules]]
name = "stale-finance"
when = "asset_stale"
owner = "finance-*"
lookback = "1d"
notify = ["hook"]

[[alerts.silences]]
rule = "nightly-*"
pipeline = "etl_legacy"
ends = 2026-12-31T00:00:00Z
comment = "being decommissioned"
"""


def test_the_issue_shape_works_as_written(tmp_path: Path) -> None:
    alerts = load_settings(_write(tmp_path, ISSUE), env={}).alerts
    (hook,) = alerts.destinations
    assert (hook.name, hook.kind, hook.url) == (
        "ops",
        DestinationKind.WEBHOOK,
        "http://127.0.0.1:9999/hook",
    )
    (rule,) = alerts.rules
    assert (rule.name, rule.when, rule.notify) == ("any-failure", RuleKind.RUN_FAILED, ("ops",))


def test_every_key(tmp_path: Path) -> None:
    alerts = load_settings(_write(tmp_path, FULL), env={}).alerts
    assert alerts.interval == timedelta(seconds=30)
    assert alerts.public_url == "https://tempox.example.com"
    pager = alerts.destination("pager")
    assert pager is not None
    assert pager.target == PAGERDUTY_URL
    nightly, down, stale = alerts.rules
    assert nightly.filters == {
        "tool": ("airflow", "dagster"),
        "pipeline": ("etl_*",),
        "tag": ("nightly",),
    }
    assert (nightly.times, nightly.repeat) == (2, timedelta(hours=4))
    assert down.for_ == timedelta(hours=1)
    assert stale.lookback == timedelta(days=1)
    (silence,) = alerts.silences
    assert silence.rule == ("nightly-*",)
    assert silence.comment == "being decommissioned"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[[alerts.destinations]]\nname = "x"\nkind = "email"\nurl = "http://h/"',
            "alerts.destinations[0].kind: input should be 'slack', 'pagerduty', 'webhook' or "
            "'alertmanager' (got 'email')",
        ),
        (
            '[[alerts.destinations]]\nname = "x"\nkind = "pagerduty"',
            "alerts.destinations[0]: a pagerduty destination needs routing_key_env",
        ),
        (
            '[[alerts.destinations]]\nname = "x"\nkind = "slack"',
            "alerts.destinations[0]: a slack destination needs url or url_env (one of them)",
        ),
        (
            '[[alerts.destinations]]\nname = "x"\nkind = "webhook"\nurl = "ftp://h/"',
            "alerts.destinations[0].url: 'ftp://h/' is not an http(s) URL",
        ),
        (
            '[[alerts.destinations]]\nname = "x"\nkind = "webhook"\nurl = "http://h/"\ntoken = "s"',
            "alerts.destinations[0].token: unknown key",
        ),
        (
            '[[alerts.rules]]\nname = "r"\nwhen = "run_failed"\nnotify = ["nobody"]',
            "alerts: rule 'r' notifies 'nobody', which is not a destination (configured: none)",
        ),
        (
            '[[alerts.rules]]\nname = "r"\nwhen = "asset_stale"\ntimes = 3',
            "alerts.rules[0]: 'times' does not apply to asset_stale rules",
        ),
        (
            '[[alerts.rules]]\nname = "r"\nwhen = "run_failed"\nlookback = "soon"',
            "alerts.rules[0].lookback: invalid duration 'soon' (use e.g. 30s, 5m, 1h)",
        ),
        (
            '[[alerts.rules]]\nname = "r"\nwhen = "run_broke"',
            "alerts.rules[0].when: input should be",
        ),
        (
            '[[alerts.rules]]\nname = "r"\nwhen = "run_failed"\n[[alerts.rules]]\nname = "r"\n'
            'when = "asset_stale"',
            "alerts: two rules are named 'r'",
        ),
        (
            "[[alerts.silences]]\nends = 2026-12-31T00:00:00",
            "alerts.silences[0]: ends needs a time zone offset",
        ),
    ],
)
def test_mistakes_are_named(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_write(tmp_path, text), env={})
    assert message in str(caught.value), str(caught.value)
    assert len(str(caught.value).splitlines()) == 1


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tempox.toml"
    path.write_text(text)
    return path
