"""The catalog's closed vocabularies, registered as GraphQL enums.

The API serves the catalog's own enum classes rather than copies, so a status added to the
catalog appears in the schema (and in the schema drift check) without a second edit.
"""

from __future__ import annotations

import strawberry

from catalog.auth.principal import Scope
from catalog.enums import (
    AssetEventKind,
    EdgeOrigin,
    NodeKind,
    RunStatus,
    SyncOutcome,
    SyncTrigger,
    TriggerKind,
)
from catalog.filters import Direction

strawberry.enum(RunStatus, description="Normalised status of a run or task run, in every tool.")
strawberry.enum(TriggerKind, description="What started a run.")
strawberry.enum(AssetEventKind)
strawberry.enum(NodeKind, description="The kinds of node in the lineage graph.")
strawberry.enum(
    EdgeOrigin,
    description="Whether a tool declared an edge, a run showed it, or a person linked two assets.",
)
strawberry.enum(SyncOutcome)
strawberry.enum(
    SyncTrigger,
    description="What started a sync: its source's interval, a push from the tool, or a person.",
)
strawberry.enum(Direction, name="LineageDirection")
strawberry.enum(Scope, description="What an API token or a sign-in allows.")

__all__ = [
    "AssetEventKind",
    "Direction",
    "EdgeOrigin",
    "NodeKind",
    "RunStatus",
    "Scope",
    "SyncOutcome",
    "SyncTrigger",
    "TriggerKind",
]
