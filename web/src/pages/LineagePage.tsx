import { useEffect, useMemo, useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router-dom";

import { useQuery } from "../api";
import type { Graph } from "../graph";
import { LineageGraph, Legend } from "../LineageGraph";
import { operations } from "../operations";
import { Loading } from "../ui";

type StartKind = "asset" | "pipeline" | "task" | "run";
const KINDS: StartKind[] = ["asset", "pipeline", "task", "run"];

type Answer = { __typename: "NotFound"; message: string } | ({ __typename: "LineageGraph" } & Graph);

function toLocalInput(iso: string | null): string {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function LineagePage() {
  const [params, setParams] = useSearchParams();
  const kind = KINDS.find((k) => params.get(k)) ?? null;
  const start = kind ? params.get(kind)! : "";
  const direction = params.get("direction") ?? "BOTH";
  const depth = Number(params.get("depth") ?? (kind === "run" ? 10 : 3));
  const asOf = params.get("asOf");

  const [formKind, setFormKind] = useState<StartKind>(kind ?? "asset");
  const [formStart, setFormStart] = useState(start);
  useEffect(() => {
    setFormKind(kind ?? "asset");
    setFormStart(start);
  }, [kind, start]);

  const lineageVars = useMemo(
    () =>
      kind && kind !== "run"
        ? { node: { [kind]: start }, direction, depth, asOf: asOf || null, maxNodes: 1000 }
        : null,
    [kind, start, direction, depth, asOf],
  );
  const runVars = useMemo(() => (kind === "run" ? { id: start, depth, maxNodes: 1000 } : null), [kind, start, depth]);
  const lineage = useQuery<{ lineage: Answer }>(operations.LineageExplorer, lineageVars);
  const impact = useQuery<{ impact: { __typename: string; downstream?: Graph } }>(operations.RunPage, runVars);

  let graph: Graph | null = null;
  let missing: string | null = null;
  if (kind === "run") {
    const answer = impact.data?.impact;
    if (answer?.__typename === "Impact" && answer.downstream) graph = answer.downstream;
    else if (answer) missing = `no run with id ${start}`;
  } else if (lineage.data) {
    const answer = lineage.data.lineage;
    if (answer.__typename === "NotFound") missing = answer.message;
    else graph = answer;
  }
  const query = kind === "run" ? impact : lineage;

  const update = (changes: Record<string, string | null>) => {
    const next = new URLSearchParams(params);
    for (const [key, value] of Object.entries(changes)) {
      if (value === null || value === "") next.delete(key);
      else next.set(key, value);
    }
    setParams(next);
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const changes: Record<string, string | null> = Object.fromEntries(KINDS.map((k) => [k, null]));
    changes[formKind] = formStart.trim();
    update(changes);
  };

  return (
    <main className="lineage-page">
      <h1>Lineage explorer</h1>
      <form className="controls" onSubmit={submit}>
        <label>
          From
          <select aria-label="Start kind" value={formKind} onChange={(e) => setFormKind(e.target.value as StartKind)}>
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {k === "asset" ? "asset URI" : `${k} id`}
              </option>
            ))}
          </select>
        </label>
        <input
          aria-label="Start"
          className="start"
          placeholder="s3://lake/raw/orders"
          value={formStart}
          onChange={(e) => setFormStart(e.target.value)}
        />
        <button type="submit">Show</button>
        <label>
          Direction
          <select
            aria-label="Direction"
            value={direction}
            disabled={kind === "run"}
            onChange={(e) => update({ direction: e.target.value })}
          >
            <option value="UPSTREAM">upstream</option>
            <option value="DOWNSTREAM">downstream</option>
            <option value="BOTH">both</option>
          </select>
        </label>
        <label>
          Depth
          <input
            aria-label="Depth"
            type="number"
            min={1}
            max={50}
            value={depth}
            onChange={(e) => update({ depth: e.target.value })}
          />
        </label>
        <label>
          As of
          <input
            aria-label="As of"
            type="datetime-local"
            disabled={kind === "run"}
            value={toLocalInput(asOf)}
            onChange={(e) => update({ asOf: e.target.value ? new Date(e.target.value).toISOString() : null })}
          />
        </label>
        {asOf && (
          <button type="button" className="link" onClick={() => update({ asOf: null })}>
            now
          </button>
        )}
      </form>
      {kind === "run" && (
        <p>
          Impact downstream of <Link to={`/runs/${start}`}>run {start}</Link>.
        </p>
      )}
      <Legend />
      {!kind && <p className="muted">Choose an asset, pipeline, task or run to start from, or click through from any page.</p>}
      <Loading error={query.error} loading={query.loading && !graph} />
      {missing && <p className="error">{missing}</p>}
      {graph && <LineageGraph graph={graph} />}
    </main>
  );
}
