import type { ReactNode } from "react";
import { Link } from "react-router-dom";

export const TOOL_COLOURS: Record<string, string> = {
  airflow: "#017cee",
  dagster: "#7c3aed",
  prefect: "#0f9d8a",
  openlineage: "#e0a100",
  synthetic: "#6b7280",
};

export function toolColour(tool: string | undefined): string {
  return (tool && TOOL_COLOURS[tool]) || "#6b7280";
}

export function Tool({ kind }: { kind: string }) {
  return (
    <span className="tool" data-tool={kind} style={{ background: toolColour(kind) }}>
      {kind}
    </span>
  );
}

export function Status({ status }: { status: string }) {
  return <span className={`status status-${status.toLowerCase()}`}>{status.toLowerCase()}</span>;
}

export function When({ at }: { at: string | null | undefined }) {
  if (!at) return <span className="muted">—</span>;
  const date = new Date(at);
  return <time dateTime={at} title={date.toISOString()}>{ago(date)}</time>;
}

export function ago(date: Date): string {
  const seconds = (Date.now() - date.getTime()) / 1000;
  const future = seconds < 0;
  const s = Math.abs(seconds);
  const [n, unit] =
    s < 90 ? [Math.round(s), "s"]
    : s < 5400 ? [Math.round(s / 60), "min"]
    : s < 129600 ? [Math.round(s / 3600), "h"]
    : [Math.round(s / 86400), "d"];
  return future ? `in ${n} ${unit}` : `${n} ${unit} ago`;
}

export function seconds(value: number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  if (value < 60) return `${value.toFixed(value < 10 ? 2 : 1)} s`;
  if (value < 3600) return `${(value / 60).toFixed(1)} min`;
  return `${(value / 3600).toFixed(1)} h`;
}

export function Owners({ owners }: { owners: string[] }) {
  if (!owners.length) return <span className="muted">none</span>;
  return <>{owners.join(", ")}</>;
}

export function AssetLink({ uri }: { uri: string }) {
  return <Link to={`/asset?uri=${encodeURIComponent(uri)}`}>{uri}</Link>;
}

export function External({ href, children }: { href: string | null | undefined; children: ReactNode }) {
  if (!href) return null;
  return (
    <a href={href} target="_blank" rel="noreferrer noopener" className="external">
      {children}
    </a>
  );
}

export function Section({ title, count, children }: { title: string; count?: number; children: ReactNode }) {
  return (
    <section>
      <h2>
        {title}
        {count !== undefined && <span className="count">{count}</span>}
      </h2>
      {children}
    </section>
  );
}

export function Loading({ error, loading }: { error: Error | null; loading: boolean }) {
  if (error) return <p className="error" role="alert">{error.message}</p>;
  if (loading) return <p className="muted">Loading…</p>;
  return null;
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="muted empty">{children}</p>;
}
