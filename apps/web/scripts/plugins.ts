/**
 * The app's Vite plugins: build-time assets (data and wasm binaries, see `assets.ts`) and a guard
 * that fails the build when a Node built-in (`node:*`, `fs`, `path`, `crypto`, `worker_threads`,
 * ...) is imported by anything in the browser bundle, page or worker.
 *
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join } from "node:path";
import type { Plugin } from "vite";
import { prepareAssets } from "./assets.js";

const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** True for `node:x`, `fs`, `fs/promises`, ... (Node's built-in modules). */
export const isNodeBuiltin = (id: string): boolean =>
  id.startsWith("node:") || builtins.has(id) || builtins.has(id.split("/")[0] ?? "");

const manifests = new Map<string, Record<string, unknown> | null>();

/** The `browser` field of the package.json nearest above `file` (null when none). */
const browserField = (file: string): Record<string, unknown> | null => {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    const cached = manifests.get(dir);
    if (cached !== undefined) return cached;
    const pj = join(dir, "package.json");
    if (existsSync(pj)) {
      const b = (JSON.parse(readFileSync(pj, "utf8")) as { browser?: unknown }).browser;
      const field = typeof b === "object" && b !== null ? (b as Record<string, unknown>) : null;
      manifests.set(dir, field);
      return field;
    }
  }
  return null;
};

/** True when the importer's package maps `source` to `false` (an empty module) for browsers. */
export const browserStubbed = (importer: string, source: string): boolean => {
  const field = browserField(importer);
  const bare = source.replace(/^node:/, "");
  return field !== null && (field[source] === false || field[bare] === false);
};

/**
 * Fails `vite build` when a Node built-in is imported by the bundle: the app must import the
 * packages' browser-safe entry points only.
 */
export const noNodeBuiltins = (): Plugin => ({
  name: "wider-no-node-builtins",
  enforce: "pre",
  apply: "build",
  resolveId(source, importer) {
    if (!isNodeBuiltin(source)) return null;
    // A package may declare a built-in empty in the browser (`"browser": { "fs": false }`, as
    // tfjs-backend-wasm does for its Emscripten glue's Node branch): nothing of Node is bundled.
    if (importer !== undefined && browserStubbed(importer, source)) return null;
    this.error(
      `Node built-in "${source}" imported by ${importer ?? "an entry"} would end up in the browser bundle; ` +
        "import the package's browser-safe entry (its root under the browser condition, not a ./node subpath)",
    );
  },
});

/** Writes the data and wasm assets into `publicDir` when a build or the dev server starts. */
export const widerAssets = (publicDir: string): Plugin => ({
  name: "wider-assets",
  buildStart() {
    const r = prepareAssets(publicDir, (line) => this.warn(line));
    this.info?.(
      `@wider/web assets: data sets ${r.available.join(", ")}; wasm ${r.wasm.join(", ")}`,
    );
  },
});
