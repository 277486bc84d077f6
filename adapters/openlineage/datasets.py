"""Datasets: their column lineage, and what several events say of one dataset or job."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from adapters.openlineage.names import dataset_uri
from catalog.records import AssetRecord, ColumnLineageRecord, PipelineRecord


def column_lineage(uri: str, facet: Mapping[str, Any], at: datetime) -> list[ColumnLineageRecord]:
    """The ``columnLineage`` facet of the dataset ``uri``, one record per input field."""
    out = []
    for column, lineage in (facet.get("fields") or {}).items():
        for f in lineage.get("inputFields") or ():
            transformations = tuple(f.get("transformations") or ())
            if not transformations and lineage.get("transformationType"):
                # Before facet 1-1-0 a column had one description of how it was made.
                transformations = (
                    {
                        "type": lineage.get("transformationType"),
                        "description": lineage.get("transformationDescription"),
                    },
                )
            out.append(
                ColumnLineageRecord(
                    uri,
                    column,
                    dataset_uri(f["namespace"], f["name"]),
                    f["field"],
                    transformations,
                    at,
                )
            )
    return out


def merge_pipeline(old: PipelineRecord | None, new: PipelineRecord) -> PipelineRecord:
    """Events describe a job piecemeal: what a later one does not say, an earlier one did."""
    if old is None:
        return new
    return replace(
        new,
        description=new.description or old.description,
        owners=new.owners or old.owners,
        tags=new.tags or old.tags,
        processing_type=new.processing_type or old.processing_type,
    )


def merge_asset(old: AssetRecord | None, new: AssetRecord) -> AssetRecord:
    """As :func:`merge_pipeline`; the dataset's facets accumulate, the later one's win."""
    if old is None:
        return new
    facets = {**old.metadata["openlineage"]["facets"], **new.metadata["openlineage"]["facets"]}
    return replace(
        new,
        kind=new.kind or old.kind,
        description=new.description or old.description,
        owners=new.owners or old.owners,
        tags=new.tags or old.tags,
        metadata={"openlineage": {**new.metadata["openlineage"], "facets": facets}},
    )
