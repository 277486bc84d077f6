"""Who may do what: scopes, principals, API tokens and the audit log.

The HTTP layer resolves every request to a :class:`Principal` (an API token, an OIDC subject, or
the anonymous user of an open server) and checks the :class:`Scope` each endpoint states; the
catalog records the principal's name on every write it makes on someone's behalf.
"""

from __future__ import annotations

from catalog.auth.principal import ANONYMOUS, Principal, Scope, parse_scopes

__all__ = ["ANONYMOUS", "Principal", "Scope", "parse_scopes"]
