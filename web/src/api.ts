import { useCallback, useEffect, useState } from "react";

const TOKEN_KEY = "tempox.token";

export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token: string | null): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export function authHeaders(): Record<string, string> {
  const token = getToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/** The server refused who we are (401) or what we asked (403). */
export class Refused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

type Variables = Record<string, unknown>;

/** One POST to /graphql; a GraphQL error is thrown with the server's message. */
export async function request<T>(document: string, variables: Variables = {}): Promise<T> {
  const response = await fetch("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", ...authHeaders() },
    body: JSON.stringify({ query: document, variables }),
  });
  let body: { data?: T; errors?: { message: string }[] } = {};
  try {
    body = await response.json();
  } catch {
    throw new Error(`the server answered ${response.status}`);
  }
  const message = body.errors?.map((e) => e.message).join("; ");
  if (response.status === 401 || response.status === 403) {
    throw new Refused(response.status, message ?? `refused (${response.status})`);
  }
  if (message) throw new Error(message);
  if (!response.ok || body.data === undefined) {
    throw new Error(`the server answered ${response.status}`);
  }
  return body.data;
}

export interface Query<T> {
  data: T | null;
  error: Error | null;
  loading: boolean;
  reload: () => void;
}

/** A page's data: one request, asked again when `variables` change or on `reload()`. */
export function useQuery<T>(document: string, variables: Variables | null): Query<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [loading, setLoading] = useState(true);
  const [generation, setGeneration] = useState(0);
  const key = JSON.stringify(variables);
  useEffect(() => {
    if (variables === null) {
      setLoading(false);
      return;
    }
    let current = true;
    setLoading(true);
    request<T>(document, variables).then(
      (d) => {
        if (!current) return;
        setData(d);
        setError(null);
        setLoading(false);
      },
      (e: Error) => {
        if (!current) return;
        setError(e);
        setLoading(false);
      },
    );
    return () => {
      current = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [document, key, generation]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { data, error, loading, reload };
}
