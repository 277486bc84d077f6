import { createContext, useContext } from "react";

export interface ViewerInfo {
  name: string;
  authenticated: boolean;
  scopes: string[];
  authRequired: boolean;
}

export const ViewerContext = createContext<ViewerInfo | null>(null);

/** Whether the signed-in user may change the catalog (link and unlink assets). */
export function useCanWrite(): boolean {
  const viewer = useContext(ViewerContext);
  return viewer !== null && viewer.scopes.includes("WRITE");
}
