"""A generic webhook: the alert as JSON, signed with HMAC-SHA256 when ``secret_env`` is set.

Headers: ``X-Tempox-Event`` (trigger | resolve), ``X-Tempox-Delivery`` (the same on every retry
of one notification: receivers drop duplicates with it), and ``X-Tempox-Signature-256:
sha256=<hex>``, the HMAC of the raw body under the secret.
"""

from __future__ import annotations

import hashlib
import hmac

from catalog.alerts.destinations.base import Destination, Notification, dumps

SIGNATURE_HEADER = "X-Tempox-Signature-256"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Webhook(Destination):
    def request(self, notification: Notification) -> tuple[str, bytes, dict[str, str]]:
        body = dumps({"version": 1, **notification.payload})
        headers = {
            "X-Tempox-Event": notification.action,
            "X-Tempox-Delivery": str(notification.id),
        }
        if self.settings.secret_env is not None:
            headers[SIGNATURE_HEADER] = sign(
                self.secret("secret_env", self.settings.secret_env), body
            )
        return self.url(), body, headers
