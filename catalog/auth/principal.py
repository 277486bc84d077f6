"""Scopes and the principal a request acts as."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from catalog.errors import InvalidArgument


class Scope(StrEnum):
    """What a token (or a role of an identity provider) allows."""

    READ = "read"  # GraphQL queries, GraphiQL, /metrics
    INGEST = "ingest"  # POST /api/v1/lineage, sync triggers
    WRITE = "write"  # GraphQL mutations on the catalog (linking assets)
    ADMIN = "admin"  # tokens and the audit log


ALL_SCOPES = frozenset(Scope)


def parse_scopes(values: Iterable[str], argument: str = "scope") -> frozenset[Scope]:
    """Scope names as scopes; an unknown name is an :class:`InvalidArgument` naming it."""
    out: set[Scope] = set()
    for value in values:
        try:
            out.add(Scope(value.strip().lower()))
        except ValueError:
            known = ", ".join(s.value for s in Scope)
            raise InvalidArgument(argument, f"unknown scope {value!r} (use {known})") from None
    if not out:
        raise InvalidArgument(argument, "give at least one scope")
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts as. ``name`` is what the catalog records: ``token:<name>``,
    ``oidc:<subject>``, ``cli:<user>`` or ``anonymous``."""

    name: str
    scopes: frozenset[Scope]
    authenticated: bool = True

    def allows(self, scope: Scope) -> bool:
        return scope in self.scopes

    def describe(self) -> str:
        return self.name if self.authenticated else "an anonymous client"


# The client of an open server (no auth required): it may do everything, as before auth existed.
ANONYMOUS = Principal("anonymous", ALL_SCOPES, authenticated=False)
NOBODY = Principal("anonymous", frozenset(), authenticated=False)
