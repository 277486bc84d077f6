"""How the catalog names what an OpenLineage event describes, and the limits of those names."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeGuard
from urllib.parse import urlsplit

from catalog.enums import AssetEventKind

# A namespace, name, run id, column or assertion: generous (the public corpus' longest is 155),
# and a clear refusal instead of a database's error for a megabyte of name.
MAX_NAME_CHARS = 1_000
# PostgreSQL refuses a B-tree entry over 2,704 bytes, and the catalog keys pipelines, tasks,
# runs, assets, aliases, asset events and checks by text built from these identifiers. The
# margin leaves room for the other columns of a key and for identity rules' rewrites.
MAX_KEY_BYTES = 2_400
# Attempts and map indexes are INTEGER columns (32 bits on PostgreSQL), and so are row counts.
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def job_key(namespace: str, name: str) -> str:
    return f"{namespace}:{name}"


def dataset_uri(namespace: str, name: str) -> str:
    """OpenLineage's dataset identity as one URI: ``gs://bucket`` + ``a.csv`` is
    ``gs://bucket/a.csv``, ``bigquery`` + ``p.d.t`` is ``bigquery:p.d.t``."""
    if "://" in namespace:
        return f"{namespace.rstrip('/')}/{name.lstrip('/')}"
    return f"{namespace}:{name}"


_PASSWORD_PARAMETER = re.compile(r"(?:^|[;?&/])\s*(?:password|pwd)\s*=", re.IGNORECASE)


def carries_password(namespace: str) -> bool:
    """Whether a dataset namespace carries a password (``user:secret@host`` or a JDBC-style
    ``;password=…``), which OpenLineage naming leaves out and the catalog never stores."""
    try:
        if urlsplit(namespace).password is not None:
            return True
    except ValueError:  # not a URL this can read: the parameter check still applies
        pass
    return _PASSWORD_PARAMETER.search(namespace) is not None


def is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def task_instance(run_facets: Mapping[str, Any]) -> Mapping[str, Any]:
    """The Airflow facet's ``taskInstance``: a custom facet, so any shape may come."""
    airflow = run_facets.get("airflow")
    ti = airflow.get("taskInstance") if isinstance(airflow, dict) else None
    return ti if isinstance(ti, dict) else {}


def event_key(own_run: str, kind: AssetEventKind, uri: str) -> str:
    return f"{own_run}|{kind.value}|{uri}"


def assertion_name(assertion: Mapping[str, Any]) -> str:
    """A data quality assertion's check name: the test's own name where the producer gives one
    (dbt's ``not_null_orders_id``), else the assertion and its column (``not_null(id)``)."""
    name = assertion.get("name")
    if isinstance(name, str) and name:
        return name
    column = assertion.get("column")
    return str(assertion["assertion"]) + (f"({column})" if column else "")


def check_key(own_run: str, uri: str, name: str) -> str:
    return f"{own_run}|{uri}|{name}"


def tag_text(tag: Mapping[str, Any]) -> str:
    """A Tags facet's tag as the catalog writes tags: ``key=value``, or ``key`` alone when the
    value says nothing more than that the tag is there."""
    key, value = str(tag["key"]), str(tag["value"])
    return key if value in ("", "true") else f"{key}={value}"
