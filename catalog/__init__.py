"""Tempox catalog: the unified model, its store, the lineage graph and the sync engine."""
