import cytoscape, { type Core, type ElementDefinition } from "cytoscape";
import dagre from "cytoscape-dagre";
import { useEffect, useMemo, useRef, useState } from "react";
import { Link } from "react-router-dom";

import { ORIGIN_WORDS, byRule, detailPath, explorePath, isFailed, isStale, label, type Graph, type GraphNode } from "./graph";
import { TOOL_COLOURS, Tool, toolColour } from "./ui";

cytoscape.use(dagre);

const WRAP = 48; // characters a node label holds a line

function elements(graph: Graph): ElementDefinition[] {
  const nodes: ElementDefinition[] = graph.nodes.map((node) => {
    const marks = [isFailed(node) ? "✖ failed" : "", isStale(node) ? "stale" : ""].filter(Boolean);
    const lines = [label(node), node.tools.join(" + "), ...marks];
    return {
      group: "nodes",
      data: {
        id: node.id,
        label: lines.join("\n"),
        // Sized to the label (cytoscape's `width: label` is deprecated).
        width: Math.min(WRAP, Math.max(...lines.map((l) => l.length))) * 6.2 + 18,
        height: lines.reduce((n, l) => n + Math.ceil(l.length / WRAP), 0) * 14 + 14,
        colour: toolColour(node.tools[0]),
        second: toolColour(node.tools[1] ?? node.tools[0]),
      },
      classes: [
        node.kind.toLowerCase(),
        node.depth === 0 ? "start" : "",
        isFailed(node) ? "failed" : "",
        isStale(node) ? "stale" : "",
        byRule(node) ? "rule" : "",
      ].join(" "),
    };
  });
  const edges: ElementDefinition[] = graph.edges.map((edge) => ({
    group: "edges",
    data: {
      id: `${edge.upstream.id}->${edge.downstream.id}`,
      source: edge.upstream.id,
      target: edge.downstream.id,
      label: edge.origins.map((o) => ORIGIN_WORDS[o] ?? o.toLowerCase()).join(" + "),
    },
    classes: [
      ...edge.origins.map((o) => o.toLowerCase()),
      edge.origins.length === 1 && edge.origins[0] === "OBSERVED" ? "observed-only" : "",
    ].join(" "),
  }));
  return [...nodes, ...edges];
}

const STYLE: cytoscape.StylesheetStyle[] = [
  {
    selector: "node",
    style: {
      shape: "round-rectangle",
      "background-color": "data(colour)",
      "border-color": "data(second)",
      "border-width": 3,
      label: "data(label)",
      color: "#fff",
      "font-size": 11,
      "text-wrap": "wrap",
      "text-max-width": `${WRAP * 6.2}px`,
      "text-valign": "center",
      "text-halign": "center",
      width: "data(width)",
      height: "data(height)",
      "min-zoomed-font-size": 6,
    },
  },
  { selector: "node.pipeline", style: { shape: "hexagon" } },
  { selector: "node.task", style: { shape: "ellipse" } },
  { selector: "node.start", style: { "border-color": "#111827", "border-width": 5 } },
  { selector: "node.rule", style: { "border-style": "double", "border-width": 6 } },
  { selector: "node.stale", style: { "border-color": "#f97316", "border-style": "dashed", "border-width": 5 } },
  { selector: "node.failed", style: { "border-color": "#dc2626", "border-width": 6, "underlay-color": "#dc2626", "underlay-opacity": 0.35, "underlay-padding": 6 } },
  { selector: "node:selected", style: { "overlay-color": "#111827", "overlay-opacity": 0.25 } },
  {
    selector: "edge",
    style: {
      width: 2,
      "curve-style": "bezier",
      "target-arrow-shape": "triangle",
      "line-color": "#9ca3af",
      "target-arrow-color": "#9ca3af",
      label: "data(label)",
      "font-size": 9,
      color: "#374151",
      "text-background-color": "#fff",
      "text-background-opacity": 0.85,
      "text-rotation": "autorotate",
      "min-zoomed-font-size": 7,
    },
  },
  { selector: "edge.observed", style: { "line-color": "#2563eb", "target-arrow-color": "#2563eb" } },
  { selector: "edge.declared", style: { "line-style": "solid" } },
  { selector: "edge.observed-only", style: { "line-style": "dashed" } },
  { selector: "edge.linked", style: { "line-style": "dotted", "line-color": "#db2777", "target-arrow-color": "#db2777", width: 3 } },
];

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

export function Legend() {
  return (
    <div className="legend" aria-label="Legend">
      {Object.keys(TOOL_COLOURS)
        .filter((t) => t !== "synthetic")
        .map((tool) => (
          <Tool key={tool} kind={tool} />
        ))}
      <span>▭ asset ⬡ pipeline ◯ task</span>
      <span className="mark-failed">red halo: latest run failed</span>
      <span className="mark-stale">orange dashes: stale</span>
      <span>double border: names merged by an identity rule (click the node for the rule)</span>
      <span>edges: solid declared, blue observed, pink dotted linked by hand</span>
    </div>
  );
}

/** The graph, laid out in layers (dagre), with zoom and pan; a click shows the node. */
export function LineageGraph({ graph }: { graph: Graph }) {
  const container = useRef<HTMLDivElement>(null);
  const cy = useRef<Core | null>(null);
  const [selected, setSelected] = useState<GraphNode | null>(null);
  const byId = useMemo(() => new Map(graph.nodes.map((n) => [n.id, n])), [graph]);

  useEffect(() => {
    if (!container.current) return;
    const instance = cytoscape({
      container: container.current,
      elements: elements(graph),
      style: STYLE,
      layout: { name: "dagre", rankDir: "LR", nodeSep: 12, rankSep: 90, edgeSep: 8 } as cytoscape.LayoutOptions,
      minZoom: 0.05,
      maxZoom: 3,
    });
    instance.on("tap", "node", (event) => setSelected(byId.get(event.target.id()) ?? null));
    instance.on("tap", (event) => {
      if (event.target === instance) setSelected(null);
    });
    cy.current = instance;
    (window as unknown as { tempoxGraph?: Core }).tempoxGraph = instance; // for tests and the console
    return () => {
      instance.destroy();
      cy.current = null;
    };
  }, [graph, byId]);

  const detail = selected && detailPath(selected);
  return (
    <div className="graph-wrap">
      <div className="graph-tools">
        <button type="button" onClick={() => cy.current?.fit(undefined, 30)}>
          Fit
        </button>
        <button type="button" onClick={() => cy.current?.zoom(cy.current.zoom() * 1.3)}>
          +
        </button>
        <button type="button" onClick={() => cy.current?.zoom(cy.current.zoom() / 1.3)}>
          −
        </button>
        <span className="muted" data-testid="graph-size">
          {plural(graph.nodes.length, "node")}, {plural(graph.edges.length, "edge")}
          {graph.truncated ? " (truncated: nearest shown)" : ""}
        </span>
      </div>
      <div
        ref={container}
        className="graph"
        data-testid="lineage-graph"
        data-tools={[...new Set(graph.nodes.flatMap((n) => n.tools))].sort().join(" ")}
        data-nodes={graph.nodes.map(label).join("\n")}
      />
      {selected && (
        <aside className="node-detail" aria-label="Selected node">
          <h3>{label(selected)}</h3>
          <p>
            {selected.kind.toLowerCase()} · {selected.tools.map((t) => <Tool key={t} kind={t} />)}
            {isFailed(selected) && <span className="status status-failed">latest run failed</span>}
            {isStale(selected) && <span className="status status-stale">stale</span>}
          </p>
          {selected.entity.__typename === "Asset" && (
            <ul className="names">
              {selected.entity.namedBy.map((n) => (
                <li key={`${n.source.kind}/${n.name}`}>
                  <Tool kind={n.source.kind} /> <code>{n.name}</code> <span className="muted">{n.reason}</span>
                </li>
              ))}
            </ul>
          )}
          <p>
            {detail && <Link to={detail}>{selected.kind === "ASSET" ? "Asset page" : "Latest run"}</Link>}
            {" · "}
            <Link to={explorePath(selected)}>Explore from here</Link>
          </p>
        </aside>
      )}
    </div>
  );
}
