import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// Built into the Python package, served by Tempox itself under /static (api/web.py).
export default defineConfig({
  plugins: [react()],
  base: "/static/",
  build: {
    outDir: "../api/web_dist",
    emptyOutDir: true,
    chunkSizeWarningLimit: 4000,
  },
  server: { fs: { allow: [".."] } },
});
