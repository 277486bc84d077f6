import "./style.css";

import { StrictMode, Suspense, lazy, useCallback, useEffect, useState, type FormEvent } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter, Link, NavLink, Route, Routes, useNavigate, useSearchParams } from "react-router-dom";

import { Refused, getToken, request, setToken } from "./api";
import { operations } from "./operations";
import { AssetPage } from "./pages/AssetPage";
import { LineagePage } from "./pages/LineagePage";
import { Overview } from "./pages/Overview";
import { RunPage } from "./pages/RunPage";
import { SearchPage } from "./pages/SearchPage";
import { ViewerContext, type ViewerInfo } from "./viewer";

// GraphiQL is large: loaded only by its own page.
const GraphiQLPage = lazy(() => import("./pages/GraphiQLPage"));

function SearchBox() {
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [text, setText] = useState(params.get("q") ?? "");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (text.trim()) navigate(`/search?q=${encodeURIComponent(text.trim())}`);
  };
  return (
    <form className="search" role="search" onSubmit={submit}>
      <input
        aria-label="Search assets and pipelines"
        placeholder="Search assets and pipelines"
        value={text}
        onChange={(e) => setText(e.target.value)}
      />
    </form>
  );
}

function SignIn({ problem, onSignedIn }: { problem: string | null; onSignedIn: () => void }) {
  const [token, setTokenText] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setToken(token.trim());
    onSignedIn();
  };
  return (
    <main className="signin">
      <h1>Sign in to Tempox</h1>
      <p>This server requires a token. Paste an API token (kept for this browser tab only).</p>
      {problem && <p className="error" role="alert">{problem}</p>}
      <form onSubmit={submit}>
        <input
          type="password"
          aria-label="API token"
          placeholder="tpx_…"
          autoComplete="off"
          value={token}
          onChange={(e) => setTokenText(e.target.value)}
        />
        <button type="submit">Sign in</button>
      </form>
    </main>
  );
}

function App() {
  const [viewer, setViewer] = useState<ViewerInfo | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [needsToken, setNeedsToken] = useState(false);

  const identify = useCallback(() => {
    request<{ viewer: ViewerInfo }>(operations.Viewer).then(
      (data) => {
        setViewer(data.viewer);
        setNeedsToken(false);
        setProblem(null);
      },
      (error: Error) => {
        if (error instanceof Refused) {
          setNeedsToken(true);
          setProblem(getToken() ? error.message : null);
          setToken(null);
        } else {
          setProblem(error.message);
        }
      },
    );
  }, []);
  useEffect(identify, [identify]);

  const signOut = () => {
    setToken(null);
    setViewer(null);
    identify();
  };

  if (needsToken) return <SignIn problem={problem} onSignedIn={identify} />;
  if (viewer === null) {
    return problem ? <p className="error" role="alert">{problem}</p> : <p className="muted">Loading…</p>;
  }
  return (
    <ViewerContext.Provider value={viewer}>
      <header className="top">
        <Link to="/" className="brand">
          Tempox
        </Link>
        <nav>
          <NavLink to="/" end>
            Overview
          </NavLink>
          <NavLink to="/lineage">Lineage</NavLink>
          <NavLink to="/graphiql">GraphiQL</NavLink>
        </nav>
        <SearchBox />
        <span className="viewer" title={`scopes: ${viewer.scopes.join(", ").toLowerCase()}`}>
          {viewer.authenticated ? viewer.name : viewer.authRequired ? "" : "open server"}
          {viewer.authenticated && (
            <button type="button" className="link" onClick={signOut}>
              Sign out
            </button>
          )}
        </span>
      </header>
      <Suspense fallback={<p className="muted">Loading…</p>}>
        <Routes>
          <Route path="/" element={<Overview />} />
          <Route path="/search" element={<SearchPage />} />
          <Route path="/lineage" element={<LineagePage />} />
          <Route path="/runs/:id" element={<RunPage />} />
          <Route path="/asset" element={<AssetPage />} />
          <Route path="/graphiql" element={<GraphiQLPage />} />
          <Route path="/graphql" element={<GraphiQLPage />} />
          <Route path="/signin" element={<Overview />} />
          <Route path="*" element={<p className="error">No such page.</p>} />
        </Routes>
      </Suspense>
    </ViewerContext.Provider>
  );
}

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <BrowserRouter>
      <App />
    </BrowserRouter>
  </StrictMode>,
);
