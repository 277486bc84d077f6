"""Where alerts go: one module per kind, each turning the stored payload into its format.

A destination's :meth:`~base.Destination.send` delivers one notification or raises
:class:`~base.DeliveryError` (``permanent`` when retrying cannot help: the service refused
the request as invalid).
"""

from __future__ import annotations

from collections.abc import Mapping

from catalog.alerts.destinations.alertmanager import Alertmanager
from catalog.alerts.destinations.base import DeliveryError, Destination, Notification
from catalog.alerts.destinations.pagerduty import PagerDuty
from catalog.alerts.destinations.slack import Slack
from catalog.alerts.destinations.webhook import Webhook
from catalog.alerts.settings import DestinationKind, DestinationSettings

__all__ = ["DeliveryError", "Destination", "Notification", "build_destination"]

_KINDS: dict[DestinationKind, type[Destination]] = {
    DestinationKind.SLACK: Slack,
    DestinationKind.PAGERDUTY: PagerDuty,
    DestinationKind.WEBHOOK: Webhook,
    DestinationKind.ALERTMANAGER: Alertmanager,
}


def build_destination(
    settings: DestinationSettings, env: Mapping[str, str] | None = None
) -> Destination:
    return _KINDS[settings.kind](settings, env)
