"""Dagster adapter; see :mod:`adapters.dagster.adapter`."""

from adapters.dagster.adapter import DagsterAdapter
from adapters.dagster.config import DagsterConfig

__all__ = ["DagsterAdapter", "DagsterConfig"]
