// Builds the console (web/src, React) into ../web-dist, which `sluice serve` serves
// (src/web/static.ts). Run through `npm run build:web`; `npm start` builds when stale.
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";
import { fileURLToPath } from "node:url";

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL("../web-dist", import.meta.url)),
    emptyOutDir: true,
    // No inline scripts: the console's CSP is script-src 'self'.
    modulePreload: { polyfill: false },
  },
});
