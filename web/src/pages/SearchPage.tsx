import { useMemo } from "react";
import { Link, useSearchParams } from "react-router-dom";

import { useQuery } from "../api";
import { operations } from "../operations";
import { AssetLink, Empty, Loading, Owners, Section, Status, Tool } from "../ui";

interface SearchData {
  assets: {
    totalCount: number;
    nodes: { uri: string; kind: string | null; owners: string[]; freshness: { isStale: boolean }; namedBy: { source: { kind: string } }[] }[];
  };
  pipelines: {
    totalCount: number;
    nodes: {
      id: string;
      name: string;
      owners: string[];
      source: { name: string; kind: string };
      runs: { nodes: { id: string; status: string; startedAt: string | null }[] };
    }[];
  };
}

export function SearchPage() {
  const [params] = useSearchParams();
  const text = params.get("q") ?? "";
  const variables = useMemo(() => (text ? { text } : null), [text]);
  const { data, error, loading } = useQuery<SearchData>(operations.Search, variables);
  return (
    <main className="search-page">
      <h1>Search: “{text}”</h1>
      <Loading error={error} loading={loading && !data} />
      {data && (
        <>
          <Section title="Assets" count={data.assets.totalCount}>
            {data.assets.nodes.length === 0 ? (
              <Empty>No asset matches.</Empty>
            ) : (
              <table className="asset-results">
                <tbody>
                  {data.assets.nodes.map((a) => (
                    <tr key={a.uri}>
                      <td>
                        <AssetLink uri={a.uri} />
                        {a.freshness.isStale && <span className="status status-stale">stale</span>}
                      </td>
                      <td>
                        {[...new Set(a.namedBy.map((n) => n.source.kind))].map((k) => (
                          <Tool key={k} kind={k} />
                        ))}
                      </td>
                      <td>
                        <Owners owners={a.owners} />
                      </td>
                      <td>
                        <Link to={`/lineage?asset=${encodeURIComponent(a.uri)}`}>lineage</Link>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </Section>
          <Section title="Pipelines" count={data.pipelines.totalCount}>
            {data.pipelines.nodes.length === 0 ? (
              <Empty>No pipeline matches.</Empty>
            ) : (
              <table className="pipeline-results">
                <tbody>
                  {data.pipelines.nodes.map((p) => (
                    <tr key={p.id}>
                      <td>{p.name}</td>
                      <td>
                        <Tool kind={p.source.kind} />
                      </td>
                      <td>
                        {p.runs.nodes[0] ? (
                          <Link to={`/runs/${p.runs.nodes[0].id}`}>
                            latest run <Status status={p.runs.nodes[0].status} />
                          </Link>
                        ) : (
                          <span className="muted">no runs</span>
                        )}
                      </td>
                      <td>
                        <Owners owners={p.owners} />
                      </td>
                      <td>
                        <Link to={`/lineage?pipeline=${p.id}`}>lineage</Link>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </Section>
        </>
      )}
    </main>
  );
}
