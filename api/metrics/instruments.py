"""What this process counts as it serves: GraphQL requests, the response cache, the
OpenLineage intake and the syncs it runs. Registered once, in prometheus-client's default
registry, beside whatever else the process registers there (the alert dispatcher's counters).

Every label has a closed set of values: operation names from ``graphql/operations`` (else
``other``), refusal reasons from :data:`REFUSAL_REASONS`, sources from the configuration.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

__all__ = [
    "CACHE_LOOKUPS",
    "GRAPHQL_DURATION",
    "GRAPHQL_REQUESTS",
    "LINEAGE_ACCEPTED",
    "LINEAGE_REFUSED",
    "REFUSAL_REASONS",
    "SYNCS",
    "SYNC_DURATION",
    "SYNC_RECORDS",
]

GRAPHQL_REQUESTS = Counter(
    "tempox_graphql_requests",
    "GraphQL requests answered, by operation name (named operations of graphql/operations; "
    "others are 'other') and outcome (ok, error: the answer has errors, refused: 4xx).",
    ["operation", "outcome"],
)
GRAPHQL_DURATION = Histogram(
    "tempox_graphql_request_duration_seconds",
    "Time to answer a GraphQL request over HTTP, by operation name.",
    ["operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
CACHE_LOOKUPS = Counter(
    "tempox_graphql_cache_lookups",
    "Response cache lookups of GraphQL queries, by result (hit, miss).",
    ["result"],
)
for _result in ("hit", "miss"):
    CACHE_LOOKUPS.labels(_result)

LINEAGE_ACCEPTED = Counter(
    "tempox_openlineage_events_accepted",
    "OpenLineage events stored by POST /api/v1/lineage.",
)
# Why a request to the intake was refused; a request is refused whole.
REFUSAL_REASONS = (
    "content_type",  # 415: not application/json
    "too_large",  # 413: over the body limit, compressed or not
    "bad_gzip",  # 400
    "bad_json",  # 400: not JSON, or JSON the catalog cannot store
    "invalid_event",  # 400: an event breaks the spec or the catalog's limits
    "conflict",  # 422: valid events that contradict what the source said before
)
LINEAGE_REFUSED = Counter(
    "tempox_openlineage_requests_refused",
    "Requests to POST /api/v1/lineage refused, by reason: " + ", ".join(REFUSAL_REASONS) + ".",
    ["reason"],
)
for _reason in REFUSAL_REASONS:
    LINEAGE_REFUSED.labels(_reason)

SYNCS = Counter(
    "tempox_syncs",
    "Syncs this process finished, by source and outcome (ok, failed, skipped: another worker "
    'held the source). Errors are outcome="failed".',
    ["source", "outcome"],
)
SYNC_DURATION = Histogram(
    "tempox_sync_duration_seconds",
    "Time a sync run by this process took, by source.",
    ["source"],
    buckets=(0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0),
)
SYNC_RECORDS = Counter(
    "tempox_sync_records_written",
    "Records syncs of this process wrote, by source.",
    ["source"],
)
