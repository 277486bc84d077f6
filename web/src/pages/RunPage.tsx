import { useMemo } from "react";
import { Link, useParams } from "react-router-dom";

import { useQuery } from "../api";
import { explorePath, label, type Graph } from "../graph";
import { LineageGraph } from "../LineageGraph";
import { operations } from "../operations";
import { AssetLink, Empty, External, Loading, Owners, Section, Status, Tool, When, seconds } from "../ui";

interface TaskRun {
  id: string;
  attempt: number;
  mapIndex: number;
  status: string;
  startedAt: string | null;
  endedAt: string | null;
  durationSeconds: number | null;
  error: string | null;
  logUrl: string | null;
  task: { name: string };
}

interface Run {
  __typename: "Run";
  id: string;
  externalId: string;
  status: string;
  rawStatus: string | null;
  trigger: string;
  logicalDate: string | null;
  queuedAt: string | null;
  startedAt: string | null;
  endedAt: string | null;
  durationSeconds: number | null;
  error: string | null;
  uiUrl: string | null;
  pipeline: { id: string; name: string; owners: string[]; uiUrl: string | null };
  source: { name: string; kind: string };
  parentRun: { id: string; externalId: string } | null;
  taskRuns: { totalCount: number; nodes: TaskRun[] };
}

interface RunPageData {
  run: Run | { __typename: "NotFound"; message: string };
  impact:
    | { __typename: "Impact"; outputs: { produced: boolean; asset: { uri: string } }[]; downstream: Graph }
    | { __typename: "NotFound" };
}

export function RunPage() {
  const { id = "" } = useParams();
  const variables = useMemo(() => ({ id }), [id]);
  const { data, error, loading } = useQuery<RunPageData>(operations.RunPage, variables);
  const run = data?.run;
  if (!run || run.__typename !== "Run") {
    return (
      <main>
        <Loading error={error} loading={loading} />
        {run && run.__typename === "NotFound" && <p className="error">{run.message}</p>}
      </main>
    );
  }
  const impact = data.impact.__typename === "Impact" ? data.impact : null;
  const downstream = impact?.downstream.nodes.filter((n) => n.depth > 0 || n.kind === "ASSET") ?? [];
  return (
    <main className="run-page">
      <h1>
        <Tool kind={run.source.kind} /> {run.pipeline.name} <Status status={run.status} />
      </h1>
      <dl className="facts">
        <dt>Run</dt>
        <dd>
          {run.externalId} <External href={run.uiUrl}>open in {run.source.kind}</External>
        </dd>
        <dt>Source</dt>
        <dd>{run.source.name}</dd>
        <dt>Trigger</dt>
        <dd>{run.trigger.toLowerCase()}</dd>
        <dt>Owners</dt>
        <dd>
          <Owners owners={run.pipeline.owners} />
        </dd>
        <dt>Logical date</dt>
        <dd>{run.logicalDate ?? "—"}</dd>
        <dt>Queued</dt>
        <dd>
          <When at={run.queuedAt} />
        </dd>
        <dt>Started</dt>
        <dd>
          <When at={run.startedAt} />
        </dd>
        <dt>Ended</dt>
        <dd>
          <When at={run.endedAt} /> ({seconds(run.durationSeconds)})
        </dd>
        {run.rawStatus && (
          <>
            <dt>Status in {run.source.kind}</dt>
            <dd>{run.rawStatus}</dd>
          </>
        )}
        {run.parentRun && (
          <>
            <dt>Parent run</dt>
            <dd>
              <Link to={`/runs/${run.parentRun.id}`}>{run.parentRun.externalId}</Link>
            </dd>
          </>
        )}
        <dt>Pipeline</dt>
        <dd>
          <Link to={`/lineage?pipeline=${run.pipeline.id}`}>lineage</Link>{" "}
          <External href={run.pipeline.uiUrl}>open in {run.source.kind}</External>
        </dd>
      </dl>
      {run.error && <pre className="run-error">{run.error}</pre>}
      <Section title="Task runs, every attempt" count={run.taskRuns.totalCount}>
        {run.taskRuns.nodes.length === 0 ? (
          <Empty>No task runs recorded.</Empty>
        ) : (
          <table className="task-runs">
            <thead>
              <tr>
                <th>Task</th>
                <th>Attempt</th>
                <th>Status</th>
                <th>Started</th>
                <th>Duration</th>
                <th>Error</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {run.taskRuns.nodes.map((tr) => (
                <tr key={tr.id}>
                  <td>
                    {tr.task.name}
                    {tr.mapIndex >= 0 && <span className="muted">[{tr.mapIndex}]</span>}
                  </td>
                  <td>{tr.attempt}</td>
                  <td>
                    <Status status={tr.status} />
                  </td>
                  <td>
                    <When at={tr.startedAt} />
                  </td>
                  <td>{seconds(tr.durationSeconds)}</td>
                  <td className="error-text">{tr.error}</td>
                  <td>
                    <External href={tr.logUrl}>log</External>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      {impact && (
        <Section title="Impact downstream, across tools" count={downstream.length}>
          <p>
            Should have written:{" "}
            {impact.outputs.length === 0
              ? "nothing declared"
              : impact.outputs.map((o) => (
                  <span key={o.asset.uri} className="output">
                    <AssetLink uri={o.asset.uri} /> {o.produced ? "(written)" : <strong className="status status-failed">not written</strong>}
                  </span>
                ))}{" "}
            · <Link to={`/lineage?run=${run.id}`}>open in the lineage explorer</Link>
          </p>
          <table className="impact">
            <thead>
              <tr>
                <th>Downstream</th>
                <th>Kind</th>
                <th>Tools</th>
                <th>Hops</th>
                <th>Owners</th>
              </tr>
            </thead>
            <tbody>
              {downstream.map((node) => (
                <tr key={node.id} data-kind={node.kind}>
                  <td>
                    {node.entity.__typename === "Asset" ? (
                      <AssetLink uri={node.entity.uri} />
                    ) : (
                      <Link to={explorePath(node)}>{label(node)}</Link>
                    )}
                  </td>
                  <td>{node.kind.toLowerCase()}</td>
                  <td>
                    {node.tools.map((t) => (
                      <Tool key={t} kind={t} />
                    ))}
                  </td>
                  <td>{node.depth}</td>
                  <td>{node.entity.__typename === "Asset" && <Owners owners={node.entity.owners ?? []} />}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {impact.downstream.nodes.length > 0 && <LineageGraph graph={impact.downstream} />}
        </Section>
      )}
    </main>
  );
}
