import "graphiql/graphiql.css";

import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import { useMemo } from "react";

import { authHeaders } from "../api";

export default function GraphiQLPage() {
  const fetcher = useMemo(
    () => createGraphiQLFetcher({ url: `${window.location.origin}/graphql`, headers: authHeaders() }),
    [],
  );
  return (
    <div className="graphiql-page">
      <GraphiQL fetcher={fetcher} />
    </div>
  );
}
