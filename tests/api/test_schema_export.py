"""The checked-in SDL is the contract clients build against: it must match the code."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import OperationDefinitionNode, build_schema, parse, validate
from strawberry.printer import print_schema

from api.schema import schema

GRAPHQL = Path(__file__).resolve().parents[2] / "graphql"
OPERATIONS = sorted((GRAPHQL / "operations").glob("*.graphql"))


def test_exported_schema_matches_the_code() -> None:
    exported = (GRAPHQL / "schema.graphql").read_text()
    assert exported == print_schema(schema) + "\n", (
        "graphql/schema.graphql is out of date with api/schema; run `tempox export-schema`"
    )


@pytest.mark.parametrize("path", OPERATIONS, ids=lambda p: p.stem)
def test_operation_is_one_named_operation_valid_against_the_sdl(path: Path) -> None:
    document = parse(path.read_text())
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    assert [op.name.value for op in operations if op.name] == [path.stem]
    sdl = build_schema((GRAPHQL / "schema.graphql").read_text())
    assert validate(sdl, document) == []
