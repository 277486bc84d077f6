"""Prefect 3: an automation that calls Tempox when a flow run finishes.

Run once, with the Prefect environment of the server to configure (``PREFECT_API_URL``) and:

- ``TEMPOX_URL``: Tempox's address as the Prefect server reaches it;
- ``TEMPOX_SOURCE``: the name of this Prefect in Tempox's ``[sources.<name>]``;
- ``TEMPOX_TOKEN``: an API token with the ``ingest`` scope (``tempox tokens create``).

It saves a Webhook block ``tempox-push`` (the token is kept as a secret header) and an
automation ``tempox-push`` whose "call a webhook" action posts the flow run's id and flow name
on every flow run that completes, fails, crashes or is cancelled. Running it again replaces both.
The automation runs in the Prefect server (its triggers and actions services, on by default).
"""

from __future__ import annotations

import os

from prefect.automations import Automation
from prefect.blocks.webhook import Webhook
from prefect.events.actions import CallWebhook
from prefect.events.schemas.automations import EventTrigger, Posture

NAME = "tempox-push"
FINISHED = [
    "prefect.flow-run.Completed",
    "prefect.flow-run.Failed",
    "prefect.flow-run.Crashed",
    "prefect.flow-run.Cancelled",
]
PAYLOAD = '{"run_id": "{{ flow_run.id }}", "pipeline": "{{ flow.name }}"}'


def install() -> Automation:
    url, source, token = (os.environ[k] for k in ("TEMPOX_URL", "TEMPOX_SOURCE", "TEMPOX_TOKEN"))
    webhook = Webhook(
        method="POST",
        url=f"{url.rstrip('/')}/api/v1/sources/{source}/sync",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    block_id = webhook.save(NAME, overwrite=True)
    while (old := _existing()) is not None:
        old.delete()
    return Automation(
        name=NAME,
        trigger=EventTrigger(
            expect=set(FINISHED),
            match={"prefect.resource.id": "prefect.flow-run.*"},
            posture=Posture.Reactive,
            threshold=1,
        ),
        actions=[CallWebhook(block_document_id=block_id, payload=PAYLOAD)],
    ).create()


def _existing() -> Automation | None:
    try:
        return Automation.read(name=NAME)
    except ValueError:  # none by that name
        return None


if __name__ == "__main__":
    created = install()
    print(f"automation {created.name} ({created.id}) calls Tempox on finished flow runs")
