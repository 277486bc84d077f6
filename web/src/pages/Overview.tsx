import { Link } from "react-router-dom";

import { useQuery } from "../api";
import { operations } from "../operations";
import { AssetLink, Empty, External, Loading, Owners, Section, Tool, When, seconds } from "../ui";

interface SourceRef {
  name: string;
  kind: string;
}

interface OverviewData {
  failedRuns: {
    totalCount: number;
    nodes: {
      id: string;
      externalId: string;
      startedAt: string | null;
      endedAt: string | null;
      error: string | null;
      uiUrl: string | null;
      pipeline: { id: string; name: string; owners: string[]; uiUrl: string | null; source: SourceRef };
    }[];
  };
  staleAssets: {
    totalCount: number;
    nodes: {
      uri: string;
      owners: string[];
      freshness: { maxAgeSeconds: number | null; lastProducedAt: string | null; staleAfter: string | null };
    }[];
  };
  sources: {
    nodes: {
      name: string;
      kind: string;
      baseUrl: string | null;
      sync: {
        outcome: string;
        lastSuccessAt: string | null;
        lastFailureAt: string | null;
        lastError: string | null;
        notices: string[];
        records: number;
      };
    }[];
  };
  slowerTasks: {
    ratio: number;
    recentMedianSeconds: number;
    baselineMedianSeconds: number;
    task: { name: string; uiUrl: string | null; pipeline: { id: string; name: string; source: SourceRef } };
  }[];
}

const NO_VARIABLES = {};

export function Overview() {
  const { data, error, loading } = useQuery<OverviewData>(operations.Overview, NO_VARIABLES);
  return (
    <main>
      <h1>Overview</h1>
      <Loading error={error} loading={loading && !data} />
      {data && (
        <>
          <Section title="Failed runs, last 7 days" count={data.failedRuns.totalCount}>
            {data.failedRuns.nodes.length === 0 ? (
              <Empty>No run failed in the last 7 days.</Empty>
            ) : (
              <table className="failed-runs">
                <thead>
                  <tr>
                    <th>When</th>
                    <th>Tool</th>
                    <th>Pipeline</th>
                    <th>Owners</th>
                    <th>Error</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {data.failedRuns.nodes.map((run) => (
                    <tr key={run.id} data-run={run.id}>
                      <td>
                        <When at={run.startedAt ?? run.endedAt} />
                      </td>
                      <td>
                        <Tool kind={run.pipeline.source.kind} />
                      </td>
                      <td>
                        <Link to={`/runs/${run.id}`} className="run-link">
                          {run.pipeline.name}
                        </Link>
                      </td>
                      <td>
                        <Owners owners={run.pipeline.owners} />
                      </td>
                      <td className="error-text">{run.error}</td>
                      <td>
                        <External href={run.uiUrl ?? run.pipeline.uiUrl}>open in {run.pipeline.source.kind}</External>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </Section>
          <div className="columns">
            <Section title="Stale assets" count={data.staleAssets.totalCount}>
              {data.staleAssets.nodes.length === 0 ? (
                <Empty>Every asset with a freshness policy is fresh.</Empty>
              ) : (
                <table className="stale-assets">
                  <thead>
                    <tr>
                      <th>Asset</th>
                      <th>Stale since</th>
                      <th>Last produced</th>
                      <th>Owners</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.staleAssets.nodes.map((asset) => (
                      <tr key={asset.uri}>
                        <td>
                          <AssetLink uri={asset.uri} />
                        </td>
                        <td>{asset.freshness.staleAfter ? <When at={asset.freshness.staleAfter} /> : "never produced"}</td>
                        <td>
                          <When at={asset.freshness.lastProducedAt} />
                        </td>
                        <td>
                          <Owners owners={asset.owners} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </Section>
            <Section title="Tasks getting slower" count={data.slowerTasks.length}>
              {data.slowerTasks.length === 0 ? (
                <Empty>No task is getting slower.</Empty>
              ) : (
                <table className="slower-tasks">
                  <thead>
                    <tr>
                      <th>Task</th>
                      <th>Tool</th>
                      <th>Recent / before (median)</th>
                      <th>Ratio</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.slowerTasks.map((slow) => (
                      <tr key={`${slow.task.pipeline.id}/${slow.task.name}`}>
                        <td>
                          <Link to={`/lineage?pipeline=${slow.task.pipeline.id}`}>{slow.task.pipeline.name}</Link>
                          {" · "}
                          {slow.task.name}
                        </td>
                        <td>
                          <Tool kind={slow.task.pipeline.source.kind} />
                        </td>
                        <td>
                          {seconds(slow.recentMedianSeconds)} / {seconds(slow.baselineMedianSeconds)}
                        </td>
                        <td>×{slow.ratio.toFixed(2)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </Section>
          </div>
          <Section title="Sources and sync health" count={data.sources.nodes.length}>
            <table className="sources">
              <thead>
                <tr>
                  <th>Source</th>
                  <th>Tool</th>
                  <th>Last sync</th>
                  <th>Last success</th>
                  <th>Records</th>
                  <th>Problems</th>
                </tr>
              </thead>
              <tbody>
                {data.sources.nodes.map((source) => (
                  <tr key={source.name}>
                    <td>{source.baseUrl ? <External href={source.baseUrl}>{source.name}</External> : source.name}</td>
                    <td>
                      <Tool kind={source.kind} />
                    </td>
                    <td>
                      <span className={`sync sync-${source.sync.outcome.toLowerCase()}`}>
                        {source.kind === "openlineage" && source.sync.outcome === "NEVER"
                          ? "pushed (no sync)"
                          : source.sync.outcome.toLowerCase()}
                      </span>
                    </td>
                    <td>
                      <When at={source.sync.lastSuccessAt} />
                    </td>
                    <td>{source.sync.records}</td>
                    <td className="error-text">
                      {[source.sync.lastError, ...source.sync.notices].filter(Boolean).join("; ")}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Section>
        </>
      )}
    </main>
  );
}
