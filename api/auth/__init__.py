"""Authentication and authorization at the HTTP edge.

:class:`~api.auth.middleware.AuthMiddleware` resolves every request to a principal (an API
token, an OIDC JWT, or the anonymous client of an open server); each endpoint states the scope
it needs (:func:`~api.auth.middleware.requires`, and per root field for GraphQL in
:mod:`api.auth.graphql`). What each endpoint needs:

========================  =========================================
``GET /healthz``           nothing (load balancers)
``GET /graphql``           ``read`` (GraphiQL, and queries sent by GET)
``POST /graphql``          ``read`` for queries and introspection, ``write`` for mutations,
                           ``admin`` for tokens and the audit log
``POST /api/v1/lineage``   ``ingest``
========================  =========================================
"""

from __future__ import annotations

from api.auth.middleware import Authenticator, AuthMiddleware, Denied, principal_of, requires

__all__ = ["AuthMiddleware", "Authenticator", "Denied", "principal_of", "requires"]
