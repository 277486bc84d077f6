"""Reading an event's facets: those that broke the spec are kept as sent but never read."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from adapters.openlineage.names import tag_text

_NOTHING: Mapping[str, Any] = {}


class FacetSet:
    """The facets of one holder (``run.facets``, ``inputs[0].inputFacets``)."""

    def __init__(self, facets: object, where: str, problems: Collection[str] = frozenset()) -> None:
        self.facets: Mapping[str, Any] = facets if isinstance(facets, dict) else _NOTHING
        self.where = where
        self.problems = problems

    def get(self, name: str) -> Mapping[str, Any]:
        """The facet ``name``, or an empty one when it is absent or breaks the spec."""
        facet = self.facets.get(name)
        if not isinstance(facet, dict) or f"{self.where}.{name}" in self.problems:
            return _NOTHING
        return facet

    def description(self) -> str | None:
        """DocumentationJobFacet / DocumentationDatasetFacet."""
        text = self.get("documentation").get("description")
        return text if isinstance(text, str) and text else None

    def owners(self) -> tuple[str, ...]:
        """OwnershipJobFacet / OwnershipDatasetFacet: the owners' names (``team:data``)."""
        names = (o["name"] for o in self.get("ownership").get("owners") or ())
        return tuple(dict.fromkeys(names))

    def tags(self) -> tuple[str, ...]:
        """Tags{Job,Run,Dataset}Facet as ``key=value``; a tag on one column of a dataset is not
        the dataset's (it stays in the facet)."""
        tags = (tag_text(t) for t in self.get("tags").get("tags") or () if not t.get("field"))
        return tuple(dict.fromkeys(tags))

    def processing_type(self) -> str | None:
        """JobTypeJobFacet.processingType: ``batch``, ``streaming`` or ``service``."""
        kind = self.get("jobType").get("processingType")
        return kind.lower() if isinstance(kind, str) and kind else None


EMPTY = FacetSet(None, "")


class Facets:
    """The facets of one event, given the paths of those that broke the spec."""

    def __init__(self, problems: Collection[str] = frozenset()) -> None:
        self.problems = problems

    def of(self, holder: Mapping[str, Any], where: str, key: str) -> FacetSet:
        return FacetSet(holder.get(key), f"{where}.{key}", self.problems)
