import { useMemo, useState } from "react";
import { Link, useSearchParams } from "react-router-dom";

import { request, useQuery } from "../api";
import { operations } from "../operations";
import { useCanWrite } from "../viewer";
import { AssetLink, Empty, Loading, Owners, Section, Status, Tool, When, seconds } from "../ui";

interface Asset {
  __typename: "Asset";
  uri: string;
  kind: string | null;
  description: string | null;
  owners: string[];
  tags: string[];
  namedBy: { name: string; reason: string; source: { name: string; kind: string } }[];
  links: { reason: string; linkedBy: string; linkedAt: string; note: string | null; other: { uri: string } }[];
  freshness: {
    maxAgeSeconds: number | null;
    cron: string | null;
    timezone: string | null;
    lastProducedAt: string | null;
    staleAfter: string | null;
    isStale: boolean;
  };
  events: {
    totalCount: number;
    nodes: {
      id: string;
      kind: string;
      at: string;
      rowCount: number | null;
      source: { name: string; kind: string };
      run: { id: string; status: string; pipeline: { name: string } } | null;
    }[];
  };
  checks: { totalCount: number; nodes: { id: string; name: string; passed: boolean; severity: string | null; at: string }[] };
  columnLineage: { column: string; inputColumn: string; inputAsset: { uri: string }; source: { name: string } }[];
}

interface AssetPageData {
  asset: Asset | { __typename: "NotFound"; message: string };
  likelyMatches: { name: string; asset: { uri: string }; other: { uri: string } }[];
}

export function AssetPage() {
  const [params] = useSearchParams();
  const uri = params.get("uri") ?? "";
  const variables = useMemo(() => (uri ? { uri } : null), [uri]);
  const { data, error, loading, reload } = useQuery<AssetPageData>(operations.AssetPage, variables);
  const canWrite = useCanWrite();
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const change = (document: string, other: string) => {
    setBusy(true);
    setProblem(null);
    request(document, { uri, other }).then(
      () => {
        setBusy(false);
        reload();
      },
      (e: Error) => {
        setBusy(false);
        setProblem(e.message);
      },
    );
  };

  const asset = data?.asset;
  if (!asset || asset.__typename !== "Asset") {
    return (
      <main>
        <Loading error={error} loading={loading} />
        {!uri && <p className="error">No asset given.</p>}
        {asset && asset.__typename === "NotFound" && <p className="error">{asset.message}</p>}
      </main>
    );
  }
  const matches = data.likelyMatches
    .filter((m) => m.asset.uri === uri || m.other.uri === uri)
    .map((m) => ({ name: m.name, other: m.asset.uri === uri ? m.other.uri : m.asset.uri }));
  const f = asset.freshness;
  return (
    <main className="asset-page">
      <h1>
        {asset.uri} {f.isStale && <span className="status status-stale">stale</span>}
      </h1>
      <p>
        {asset.kind && <span className="muted">{asset.kind} · </span>}
        {asset.description}
      </p>
      <p>
        <Link to={`/lineage?asset=${encodeURIComponent(asset.uri)}`}>Explore lineage</Link>
      </p>
      <dl className="facts">
        <dt>Owners</dt>
        <dd>
          <Owners owners={asset.owners} />
        </dd>
        <dt>Tags</dt>
        <dd>{asset.tags.join(", ") || <span className="muted">none</span>}</dd>
        <dt>Freshness</dt>
        <dd>
          {f.maxAgeSeconds === null ? (
            <span className="muted">no policy</span>
          ) : (
            <>
              within {seconds(f.maxAgeSeconds)}
              {f.cron && ` before each "${f.cron}" (${f.timezone ?? "UTC"})`}; {f.isStale ? "stale since " : "stale after "}
              <When at={f.staleAfter} />
            </>
          )}
        </dd>
        <dt>Last produced</dt>
        <dd>
          <When at={f.lastProducedAt} />
        </dd>
      </dl>
      <Section title="What each tool calls it" count={asset.namedBy.length}>
        <table className="named-by">
          <thead>
            <tr>
              <th>Tool</th>
              <th>Source</th>
              <th>Name</th>
              <th>Why it is this asset</th>
            </tr>
          </thead>
          <tbody>
            {asset.namedBy.map((n) => (
              <tr key={`${n.source.name}/${n.name}`}>
                <td>
                  <Tool kind={n.source.kind} />
                </td>
                <td>{n.source.name}</td>
                <td>
                  <code>{n.name}</code>
                </td>
                <td>{n.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
      <Section title="Linked by hand" count={asset.links.length}>
        {asset.links.length === 0 ? (
          <Empty>Not linked to another asset.</Empty>
        ) : (
          <ul className="links">
            {asset.links.map((link) => (
              <li key={link.other.uri}>
                <AssetLink uri={link.other.uri} /> by {link.linkedBy} <When at={link.linkedAt} />
                {link.note && <q>{link.note}</q>}
                {canWrite && (
                  <button type="button" disabled={busy} onClick={() => change(operations.UnlinkAssets, link.other.uri)}>
                    Unlink
                  </button>
                )}
              </li>
            ))}
          </ul>
        )}
      </Section>
      <Section title="Likely the same dataset" count={matches.length}>
        {matches.length === 0 ? (
          <Empty>No other asset shares its table name.</Empty>
        ) : (
          <ul className="matches">
            {matches.map((m) => (
              <li key={m.other}>
                <AssetLink uri={m.other} /> <span className="muted">(both named “{m.name}”)</span>
                {canWrite && (
                  <button type="button" disabled={busy} onClick={() => change(operations.LinkAssets, m.other)}>
                    Link as the same
                  </button>
                )}
              </li>
            ))}
          </ul>
        )}
      </Section>
      <Section title="Events" count={asset.events.totalCount}>
        {asset.events.nodes.length === 0 ? (
          <Empty>No events.</Empty>
        ) : (
          <table className="events">
            <thead>
              <tr>
                <th>When</th>
                <th>Event</th>
                <th>Tool</th>
                <th>Run</th>
                <th>Rows</th>
              </tr>
            </thead>
            <tbody>
              {asset.events.nodes.map((e) => (
                <tr key={e.id}>
                  <td>
                    <When at={e.at} />
                  </td>
                  <td>{e.kind.toLowerCase()}</td>
                  <td>
                    <Tool kind={e.source.kind} />
                  </td>
                  <td>
                    {e.run ? (
                      <Link to={`/runs/${e.run.id}`}>
                        {e.run.pipeline.name} <Status status={e.run.status} />
                      </Link>
                    ) : (
                      <span className="muted">no run</span>
                    )}
                  </td>
                  <td>{e.rowCount ?? "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      <Section title="Checks" count={asset.checks.totalCount}>
        {asset.checks.nodes.length === 0 ? (
          <Empty>No quality checks.</Empty>
        ) : (
          <table className="checks">
            <tbody>
              {asset.checks.nodes.map((c) => (
                <tr key={c.id}>
                  <td>{c.name}</td>
                  <td>
                    <span className={`status status-${c.passed ? "success" : "failed"}`}>{c.passed ? "passed" : "failed"}</span>
                  </td>
                  <td>{c.severity}</td>
                  <td>
                    <When at={c.at} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      <Section title="Column lineage" count={asset.columnLineage.length}>
        {asset.columnLineage.length === 0 ? (
          <Empty>No column lineage reported.</Empty>
        ) : (
          <table className="columns-lineage">
            <thead>
              <tr>
                <th>Column</th>
                <th>From</th>
                <th>Reported by</th>
              </tr>
            </thead>
            <tbody>
              {asset.columnLineage.map((c) => (
                <tr key={`${c.column}/${c.inputAsset.uri}/${c.inputColumn}`}>
                  <td>{c.column}</td>
                  <td>
                    <AssetLink uri={c.inputAsset.uri} /> · {c.inputColumn}
                  </td>
                  <td>{c.source.name}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
    </main>
  );
}
