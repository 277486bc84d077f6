"""Airflow 3 (REST API v2) adapter; see :mod:`adapters.airflow.adapter`."""

from adapters.airflow.adapter import AirflowAdapter
from adapters.airflow.config import AirflowConfig

__all__ = ["AirflowAdapter", "AirflowConfig"]
