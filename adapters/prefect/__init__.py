"""Prefect 3 adapter; see :mod:`adapters.prefect.adapter`."""

from adapters.prefect.adapter import PrefectAdapter
from adapters.prefect.config import PrefectConfig

__all__ = ["PrefectAdapter", "PrefectConfig"]
