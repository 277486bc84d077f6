// The lineage graph as LineageExplorer and RunPage return it (fragment ExplorerGraph).

export interface GraphNode {
  id: string;
  kind: "ASSET" | "PIPELINE" | "TASK";
  depth: number;
  tools: string[];
  entity:
    | {
        __typename: "Asset";
        uri: string;
        owners?: string[];
        freshness: { isStale: boolean; staleAfter: string | null };
        namedBy: { name: string; reason: string; source: { kind: string } }[];
      }
    | { __typename: "Pipeline"; id: string; name: string; runs: { nodes: { id: string; status: string }[] } }
    | { __typename: "Task"; id: string; name: string; pipeline: { id: string; name: string } };
}

export interface GraphEdge {
  upstream: { id: string };
  downstream: { id: string };
  origins: string[];
  sources: string[];
}

export interface Graph {
  truncated: boolean;
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export function label(node: GraphNode): string {
  const e = node.entity;
  if (e.__typename === "Asset") return e.uri;
  if (e.__typename === "Pipeline") return e.name;
  return `${e.pipeline.name}.${e.name}`;
}

export function isFailed(node: GraphNode): boolean {
  const e = node.entity;
  return e.__typename === "Pipeline" && e.runs.nodes[0]?.status === "FAILED";
}

export function isStale(node: GraphNode): boolean {
  const e = node.entity;
  return e.__typename === "Asset" && e.freshness.isStale;
}

/** Whether an identity rule (not the tools' own names) merged this asset's names. */
export function byRule(node: GraphNode): boolean {
  const e = node.entity;
  return e.__typename === "Asset" && e.namedBy.some((n) => /rule|alias|spelling/.test(n.reason));
}

/** The page a node opens, and the explorer centred on it. */
export function detailPath(node: GraphNode): string | null {
  const e = node.entity;
  if (e.__typename === "Asset") return `/asset?uri=${encodeURIComponent(e.uri)}`;
  if (e.__typename === "Pipeline") {
    const latest = e.runs.nodes[0];
    return latest ? `/runs/${latest.id}` : null;
  }
  return null;
}

export function explorePath(node: GraphNode): string {
  const e = node.entity;
  if (e.__typename === "Asset") return `/lineage?asset=${encodeURIComponent(e.uri)}`;
  if (e.__typename === "Pipeline") return `/lineage?pipeline=${e.id}`;
  return `/lineage?task=${e.id}`;
}

export const ORIGIN_WORDS: Record<string, string> = {
  DECLARED: "declared",
  OBSERVED: "observed",
  LINKED: "linked by hand",
};
