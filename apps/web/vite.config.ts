import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import { noNodeBuiltins, widerAssets } from "./scripts/plugins.js";

const publicDir = fileURLToPath(new URL("./public-generated", import.meta.url));

/**
 * Cross-origin isolation (SharedArrayBuffer, hence wasm threads): the page and every file it
 * loads are served with these two headers by `dev` and `preview`. A static host must send them
 * too for threads; without them the page still works, on one wasm thread.
 */
const isolation = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
};

export default defineConfig({
  // Relative asset URLs: dist/ works from any folder of any static host.
  base: "./",
  publicDir,
  plugins: [widerAssets(publicDir), noNodeBuiltins()],
  worker: { format: "es", plugins: () => [noNodeBuiltins()] },
  // The dev server pre-bundles the worker's dependencies at start-up too (otherwise it finds them
  // when Train first starts the worker, and reloads the page).
  optimizeDeps: { entries: ["index.html", "src/worker.ts"] },
  build: { target: "es2022", chunkSizeWarningLimit: 4096, sourcemap: true },
  server: { headers: isolation },
  preview: { headers: isolation },
});
