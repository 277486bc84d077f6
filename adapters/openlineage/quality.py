"""Check results: the datasets' data quality assertions and the run's test outcomes."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from adapters.openlineage.facets import Facets
from adapters.openlineage.names import assertion_name, check_key
from catalog.records import CheckResultRecord

# TestRunFacet's statuses; "skip" (not executed) has no outcome to record.
_TEST_PASSED = {"pass": True, "fail": False}


def check_results(
    event: Mapping[str, Any],
    at: datetime,
    run_id: str,
    own_run: str,
    sides: Mapping[str, Sequence[str]],
    facets: Facets,
) -> Iterator[CheckResultRecord]:
    """Check results from the datasets' ``dataQualityAssertions`` and the run's ``test`` facet,
    on any event of the run (dbt-ol reports a failing test on FAIL, streaming jobs on RUNNING),
    filed under the catalog run ``run_id``; ``sides`` are the inputs' and outputs' URIs."""
    for side in ("inputs", "outputs"):
        for i, (d, uri) in enumerate(zip(event.get(side) or (), sides[side], strict=True)):
            for holder in ("inputFacets", "outputFacets", "facets"):
                found = facets.of(d, f"{side}[{i}]", holder).get("dataQualityAssertions")
                for a in found.get("assertions") or ():
                    name = assertion_name(a)
                    yield CheckResultRecord(
                        uri,
                        name,
                        bool(a["success"]),
                        at,
                        severity=a.get("severity"),
                        run_id=run_id,
                        external_id=check_key(own_run, uri, name),
                        metadata={"openlineage": a},
                    )
    tests = facets.of(event["run"], "run", "facets").get("test").get("tests") or ()
    # A test is not tied to a dataset: it checks what the run read, else what it wrote.
    targets = sides["inputs"] or sides["outputs"]
    for test in tests:
        passed = _TEST_PASSED.get(str(test["status"]).lower())
        if passed is None:
            continue
        for uri in targets:
            yield CheckResultRecord(
                uri,
                test["name"],
                passed,
                at,
                severity=test.get("severity"),
                run_id=run_id,
                external_id=check_key(own_run, uri, test["name"]),
                metadata={"openlineage": {"test": test}},
            )
