// The build guard: a Node built-in anywhere in the browser bundle fails `vite build`; a built-in
// that a package maps to `false` in its `browser` field (an empty stub) does not.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "vite";
import { afterAll, describe, expect, it } from "vitest";
import { browserStubbed, isNodeBuiltin, noNodeBuiltins } from "../scripts/plugins.js";

const dir = mkdtempSync(join(tmpdir(), "wider-web-guard-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const buildEntry = (code: string) => {
  const root = mkdtempSync(join(dir, "app-"));
  writeFileSync(join(root, "entry.js"), code);
  return build({
    root,
    logLevel: "silent",
    configFile: false,
    plugins: [noNodeBuiltins()],
    build: { write: false, lib: { entry: join(root, "entry.js"), formats: ["es"], fileName: "x" } },
  });
};

describe("no Node built-ins in the bundle", () => {
  it("knows the built-ins", () => {
    for (const id of [
      "node:fs",
      "fs",
      "fs/promises",
      "path",
      "crypto",
      "worker_threads",
      "node:zlib",
    ])
      expect(isNodeBuiltin(id), id).toBe(true);
    for (const id of ["vega", "@wider/data", "./fs.js", "fp-ts/lib/Either.js"])
      expect(isNodeBuiltin(id), id).toBe(false);
  });

  it.each(["node:fs", "fs", "crypto", "worker_threads"])(
    "an import of %s fails the build",
    async (m) => {
      await expect(buildEntry(`import * as x from "${m}"; console.log(x);`)).rejects.toThrow(
        new RegExp(`Node built-in "${m}" imported by .*entry\\.js`),
      );
    },
  );

  it("a dynamic import of node:fs/promises fails the build too", async () => {
    await expect(buildEntry(`export const f = () => import("node:fs/promises");`)).rejects.toThrow(
      /Node built-in "node:fs\/promises"/,
    );
  });

  it("a package's own browser-field stub is allowed", () => {
    const pkg = join(dir, "pkg");
    mkdirSync(pkg);
    writeFileSync(join(pkg, "package.json"), JSON.stringify({ name: "p", browser: { fs: false } }));
    expect(browserStubbed(join(pkg, "index.js"), "fs")).toBe(true);
    expect(browserStubbed(join(pkg, "index.js"), "node:fs")).toBe(true);
    expect(browserStubbed(join(pkg, "index.js"), "path")).toBe(false);
  });
});
