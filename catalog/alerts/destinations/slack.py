"""A Slack incoming webhook: a Block Kit message, within Slack's limits on every text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from catalog.alerts.destinations.base import Destination, Notification, dumps

HEADER_MAX = 150  # plain_text of a header block
SECTION_MAX = 3000  # text of a section block
FIELD_MAX = 2000  # each of a section's fields (10 at most)
BUTTON_MAX = 75  # a button's text
_ICON = {"critical": "🔴", "error": "🔴", "warning": "🟠", "info": "🔵"}


def escape(text: str) -> str:
    """Slack's mrkdwn needs only these three escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def message(p: Mapping[str, Any]) -> dict[str, Any]:
    resolved = p["action"] == "resolve"
    icon = "✅" if resolved else _ICON.get(str(p["severity"]), "🔴")
    title = f"{icon} {p['title']}"
    run = p.get("run") or {}
    source = p.get("source") or {}
    fields = [("Rule", f"{p['rule']} ({p['kind']})"), ("Severity", str(p["severity"]))]
    if source:
        fields.append(("Source", f"{source.get('name')} ({source.get('tool')})"))
    if pipeline := p.get("pipeline"):
        fields.append(("Pipeline", str(pipeline.get("name"))))
    if asset := p.get("asset"):
        fields.append(("Asset", str(asset.get("uri"))))
    if run:
        fields.append(("Run", f"{run.get('external_id')} ({run.get('status')})"))
    if p.get("owners"):
        fields.append(("Owners", ", ".join(p["owners"])))
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(title, HEADER_MAX)}},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": _cut(f"*{k}*\n{escape(v)}", FIELD_MAX)}
                for k, v in fields[:10]
            ],
        },
    ]
    error = run.get("error") or (p.get("sync") or {}).get("error")
    if error and not resolved:
        text = f"*Error*\n```{escape(str(error))}```"
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": _cut(text, SECTION_MAX)}}
        )
    impact = p.get("impact") or {}
    if impact.get("assets"):
        lines = [
            f"• `{escape(a['uri'])}` ({escape(', '.join(a['tools']) or '?')}"
            f"; owners: {escape(', '.join(a['owners']) or 'none')})"
            for a in impact["assets"]
        ]
        if impact.get("truncated"):
            lines.append("• …")
        text = "*Downstream, across tools*\n" + "\n".join(lines)
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": _cut(text, SECTION_MAX)}}
        )
    buttons = [
        {
            "type": "button",
            "text": {"type": "plain_text", "text": _cut(label, BUTTON_MAX)},
            "url": url,
        }
        for label, url in (
            ("Open the run", run.get("ui_url")),
            ("Open the pipeline", (p.get("pipeline") or {}).get("ui_url")),
            ("Open Tempox", p.get("link")),
        )
        if url and len(url) <= SECTION_MAX
    ]
    if buttons:
        blocks.append({"type": "actions", "elements": buttons[:5]})
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": _cut(
                        f"Tempox · started {p['started_at']} · {p['dedup_key']}", FIELD_MAX
                    ),
                }
            ],
        }
    )
    return {"text": _cut(str(p["title"]), SECTION_MAX), "blocks": blocks}


class Slack(Destination):
    def request(self, notification: Notification) -> tuple[str, bytes, dict[str, str]]:
        return self.url(), dumps(message(notification.payload)), {}
