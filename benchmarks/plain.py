"""The baseline of benchmarks/graphql_vs_plain.py: a plain Starlette JSON endpoint per question.

Each endpoint answers what the named operation in ``graphql/operations/`` answers (the same
rows, fields and JSON shape) from hand-written SQL on the bare DB-API connection, in the fewest
statements a careful hand-written client would use, encoded by Starlette's ``JSONResponse``.
It is served by uvicorn exactly as Tempox is (one process, same settings): the difference
between the two is what the GraphQL layer costs.
"""

from __future__ import annotations

import json
import os
import threading
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import create_engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from catalog.pagination import encode_cursor

DB_URL_ENV = "TEMPOX_PLAIN_DATABASE_URL"
FAILED = ("failed", "upstream_failed")


class Plain:
    """One DB-API connection per thread (uvicorn runs the endpoints on its loop: one)."""

    def __init__(self, url: str) -> None:
        self.sqlite = url.startswith("sqlite")
        # Each statement on its own: no transaction held open between requests.
        self.engine = create_engine(url, isolation_level="AUTOCOMMIT")
        self.p = "?" if self.sqlite else "%s"
        self._local = threading.local()

    def cursor(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self.engine.raw_connection()
        return conn.cursor()

    def marks(self, n: int) -> str:
        return ", ".join([self.p] * max(n, 1))

    def at(self, value: datetime) -> Any:
        return value.astimezone(UTC).replace(tzinfo=None) if self.sqlite else value

    def time(self, value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return str(value.astimezone(UTC).isoformat())

    def labels(self, cur: Any, table: str, kind: str, ids: list[int]) -> dict[int, list[str]]:
        column = "name" if table == "owner" else "tag"
        found: dict[int, list[str]] = defaultdict(list)
        cur.execute(
            f"SELECT entity_id, {column} FROM {table} WHERE entity_kind = {self.p} "
            f"AND entity_id IN ({self.marks(len(ids))}) ORDER BY {column}",
            [kind, *(ids or [0])],
        )
        for ident, value in cur.fetchall():
            found[ident].append(value)
        return found

    # -- runs ---------------------------------------------------------------------------------

    def runs(self, where: str, args: list[Any], first: int) -> tuple[list[Any], int, bool]:
        cur = self.cursor()
        cur.execute(
            "SELECT r.id, r.external_id, r.status, r.raw_status, r.trigger, r.started_at, "
            "r.duration_s, r.error, r.ui_url, r.happened_at, p.id, p.name, s.name, s.kind "
            "FROM run r JOIN pipeline p ON p.id = r.pipeline_id "
            "JOIN source s ON s.id = p.source_id "
            f"WHERE {where} ORDER BY r.happened_at DESC, r.id DESC LIMIT {first + 1}",
            args,
        )
        rows = cur.fetchall()
        cur.execute(f"SELECT count(*) FROM run r WHERE {where}", args)
        (total,) = cur.fetchone()
        return rows[:first], int(total), len(rows) > first

    def failed_runs(self, variables: dict[str, Any]) -> dict[str, Any]:
        first = int(variables.get("first", 50))
        until = datetime.now(UTC)
        since = until - timedelta(days=7)
        where = (
            f"r.status IN ({self.marks(2)}) AND r.happened_at >= {self.p} "
            f"AND r.happened_at < {self.p}"
        )
        rows, total, more = self.runs(where, [*FAILED, self.at(since), self.at(until)], first)
        cur = self.cursor()
        owners = self.labels(cur, "owner", "pipeline", sorted({r[10] for r in rows}))
        own = self.labels(
            cur, "owner", "run", [r[0] for r in rows]
        )  # a run's own, then its pipeline's
        nodes = [
            {
                "id": str(r[0]),
                "externalId": r[1],
                "status": r[2].upper(),
                "startedAt": self.time(r[5]),
                "error": r[7],
                "uiUrl": r[8],
                "owners": list(dict.fromkeys([*own.get(r[0], []), *owners.get(r[10], [])])),
                "pipeline": {
                    "name": r[11],
                    "owners": owners.get(r[10], []),
                    "source": {"name": r[12], "kind": r[13]},
                },
            }
            for r in rows
        ]
        cursors = [encode_cursor(self.time(r[9]), r[0]) for r in rows]
        return {
            "failedRuns": {
                "totalCount": total,
                "pageInfo": {"hasNextPage": more, "endCursor": cursors[-1] if cursors else None},
                "nodes": nodes,
            }
        }

    def filtered_runs(self, variables: dict[str, Any]) -> dict[str, Any]:
        first = int(variables.get("first", 50))
        f = variables.get("filter") or {}
        where, args = ["1 = 1"], []
        if f.get("status"):
            where.append(f"r.status IN ({self.marks(len(f['status']))})")
            args += [s.lower() for s in f["status"]]
        if f.get("source"):
            where.append(
                f"r.source_id IN (SELECT id FROM source WHERE name IN "
                f"({self.marks(len(f['source']))}))"
            )
            args += list(f["source"])
        if f.get("since"):
            where.append(f"r.happened_at >= {self.p}")
            args.append(self.at(datetime.fromisoformat(f["since"])))
        rows, total, more = self.runs(" AND ".join(where), args, first)
        edges = [
            {
                "cursor": encode_cursor(self.time(r[9]), r[0]),
                "node": {
                    "id": str(r[0]),
                    "externalId": r[1],
                    "status": r[2].upper(),
                    "rawStatus": r[3],
                    "trigger": r[4].upper(),
                    "startedAt": self.time(r[5]),
                    "durationSeconds": r[6],
                    "error": r[7],
                    "pipeline": {"name": r[11], "source": {"name": r[12]}},
                },
            }
            for r in rows
        ]
        return {
            "runs": {
                "totalCount": total,
                "pageInfo": {
                    "hasNextPage": more,
                    "endCursor": edges[-1]["cursor"] if edges else None,
                },
                "edges": edges,
            }
        }

    # -- assets -------------------------------------------------------------------------------

    def assets(self, variables: dict[str, Any]) -> dict[str, Any]:
        first = int(variables.get("first", 50))
        prefix = (variables.get("filter") or {}).get("uriPrefix") or ""
        cur = self.cursor()
        cur.execute(
            "SELECT id, uri, kind, freshness_max_age_s, last_produced_at, stale_after FROM asset "
            f"WHERE uri LIKE {self.p} ORDER BY id LIMIT {first + 1}",
            [prefix + "%"],
        )
        rows = cur.fetchall()
        more, rows = len(rows) > first, rows[:first]
        cur.execute(f"SELECT count(*) FROM asset WHERE uri LIKE {self.p}", [prefix + "%"])
        (total,) = cur.fetchone()
        ids = [r[0] for r in rows]
        owners = self.labels(cur, "owner", "asset", ids)
        tags = self.labels(cur, "tag", "asset", ids)
        aliases: dict[int, list[dict[str, Any]]] = defaultdict(list)
        cur.execute(
            "SELECT a.asset_id, a.alias, s.name FROM asset_alias a JOIN source s "
            f"ON s.id = a.source_id WHERE a.asset_id IN ({self.marks(len(ids))}) ORDER BY a.id",
            ids or [0],
        )
        for asset_id, alias, source in cur.fetchall():
            aliases[asset_id].append({"alias": alias, "source": {"name": source}})
        now = datetime.now(UTC)
        nodes = []
        for ident, uri, kind, max_age, produced, stale_after in rows:
            after = self.time(stale_after)
            stale = max_age is not None and (after is None or datetime.fromisoformat(after) < now)
            nodes.append(
                {
                    "id": str(ident),
                    "uri": uri,
                    "kind": kind,
                    "owners": owners.get(ident, []),
                    "tags": tags.get(ident, []),
                    "aliases": aliases.get(ident, []),
                    "freshness": {
                        "maxAgeSeconds": max_age,
                        "lastProducedAt": self.time(produced),
                        "isStale": stale,
                    },
                }
            )
        end = encode_cursor(ids[-1]) if ids else None
        return {
            "assets": {
                "totalCount": int(total),
                "pageInfo": {"hasNextPage": more, "endCursor": end},
                "nodes": nodes,
            }
        }

    # -- lineage ------------------------------------------------------------------------------

    def lineage(self, variables: dict[str, Any]) -> dict[str, Any]:
        """Downstream of an asset to ``depth`` hops: a recursive CTE over the edges."""
        depth = int(variables.get("depth", 5))
        cur = self.cursor()
        cur.execute(f"SELECT id FROM asset WHERE uri = {self.p}", [variables["node"]["asset"]])
        found = cur.fetchone()
        if found is None:
            return {"lineage": {"__typename": "NotFound", "message": "no such asset"}}
        cur.execute(
            "WITH RECURSIVE reach(kind, id, depth) AS ("
            f" SELECT CAST('asset' AS VARCHAR(10)), CAST({self.p} AS INTEGER), 0"
            " UNION"
            " SELECT e.to_kind, e.to_id, reach.depth + 1 FROM lineage_edge e JOIN reach"
            " ON e.from_kind = reach.kind AND e.from_id = reach.id"
            f" WHERE reach.depth < {self.p})"
            " SELECT kind, id, min(depth) FROM reach GROUP BY kind, id ORDER BY 3, 1, 2",
            [found[0], depth],
        )
        reached = cur.fetchall()
        depth_of = {(k, i): d for k, i, d in reached}
        by_kind: dict[str, list[int]] = defaultdict(list)
        for kind, ident, _ in reached:
            by_kind[kind].append(ident)
        names: dict[tuple[str, int], dict[str, Any]] = {}
        cur.execute(
            f"SELECT id, uri FROM asset WHERE id IN ({self.marks(len(by_kind['asset']))})",
            by_kind["asset"] or [0],
        )
        names.update({("asset", i): {"uri": u} for i, u in cur.fetchall()})
        cur.execute(
            "SELECT p.id, p.name, s.name, s.kind FROM pipeline p JOIN source s ON s.id = "
            f"p.source_id WHERE p.id IN ({self.marks(len(by_kind['pipeline']))})",
            by_kind["pipeline"] or [0],
        )
        sources: dict[tuple[str, int], set[tuple[str, str]]] = defaultdict(set)
        for i, name, source, kind in cur.fetchall():
            names[("pipeline", i)] = {"name": name}
            sources[("pipeline", i)].add((source, kind))
        cur.execute(
            "SELECT t.id, t.name, p.name, s.name, s.kind FROM task t JOIN pipeline p ON p.id = "
            f"t.pipeline_id JOIN source s ON s.id = p.source_id WHERE t.id IN "
            f"({self.marks(len(by_kind['task']))})",
            by_kind["task"] or [0],
        )
        for i, name, pipeline, source, kind in cur.fetchall():
            names[("task", i)] = {"name": name, "pipeline": {"name": pipeline}}
            sources[("task", i)].add((source, kind))
        edges = []
        ids = [i for _, i, _ in reached] or [0]
        cur.execute(
            "SELECT e.from_kind, e.from_id, e.to_kind, e.to_id, e.origin, s.name, s.kind "
            "FROM lineage_edge e JOIN source s ON s.id = e.source_id "
            f"WHERE e.from_id IN ({self.marks(len(ids))}) AND e.to_id IN ({self.marks(len(ids))})",
            [*ids, *ids],
        )
        grouped: dict[tuple[Any, ...], tuple[set[str], set[str]]] = {}
        for fk, fi, tk, ti, origin, source, kind in cur.fetchall():
            if (fk, fi) not in depth_of or (tk, ti) not in depth_of:
                continue
            if fk == "asset":
                sources[(fk, fi)].add((source, kind))
            if tk == "asset":
                sources[(tk, ti)].add((source, kind))
            origins, names_of = grouped.setdefault((fk, fi, tk, ti), (set(), set()))
            origins.add(origin.upper())
            names_of.add(source)
        for (fk, fi, tk, ti), (origins, names_of) in grouped.items():
            edges.append(
                {
                    "upstream": {"id": f"{fk}:{fi}"},
                    "downstream": {"id": f"{tk}:{ti}"},
                    "origins": sorted(origins),
                    "sources": sorted(names_of),
                }
            )
        nodes = [
            {
                "id": f"{kind}:{ident}",
                "kind": kind.upper(),
                "depth": d,
                "sources": sorted({s for s, _ in sources[(kind, ident)]}),
                "tools": sorted({k for _, k in sources[(kind, ident)]}),
                "entity": names.get((kind, ident), {}),
            }
            for kind, ident, d in reached
        ]
        return {"lineage": {"__typename": "LineageGraph", "nodes": nodes, "edges": edges}}


def app() -> Starlette:
    """What uvicorn serves (``benchmarks.plain:app --factory``), over
    ``$TEMPOX_PLAIN_DATABASE_URL``."""
    plain = Plain(os.environ[DB_URL_ENV])
    answers = {
        "FailedRuns": plain.failed_runs,
        "Runs": plain.filtered_runs,
        "Assets": plain.assets,
        "Lineage": plain.lineage,
    }

    async def answer(request: Request) -> JSONResponse:
        body = json.loads(await request.body())
        data = answers[body["operationName"]](body.get("variables") or {})
        return JSONResponse({"data": data})

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[Route("/graphql", answer, methods=["POST"]), Route("/healthz", healthz)]
    )
