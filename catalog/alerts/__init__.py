"""Alerts: rules evaluated over the catalog, incidents, and their delivery.

``settings`` (the ``[alerts]`` section), ``rules`` (what each kind of rule finds), ``engine``
(incidents from findings: deduplicated, resolved, silenced, repeated), ``messages`` (what an
alert says, with its cross-tool impact), ``outbox`` (at-least-once delivery),
``destinations`` (one module per kind), ``service`` (where and when all this runs).
"""
