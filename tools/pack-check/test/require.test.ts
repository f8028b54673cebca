// require() of every package from a CommonJS script, as a `module: commonjs` TypeScript project does.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { publishedPackages, repoRoot } from "./packages.js";

const scratch = mkdtempSync(join(tmpdir(), "wider-require-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
const nodeHasRequireEsm =
  major > 22 || (major === 22 && minor >= 12) || (major === 20 && minor >= 19);

describe("require() from CommonJS", () => {
  it("this Node unflagged require(esm) (>= 20.19), as the engines field says", () => {
    expect(nodeHasRequireEsm).toBe(true);
  });

  for (const pkg of publishedPackages()) {
    it(`require("${pkg.name}") returns the same exports as import()`, async () => {
      // The script lives in the tool's own folder so `require` resolves through its node_modules.
      const script = join(
        repoRoot,
        "tools/pack-check",
        `.require-${pkg.name.replace("/", "-")}.cjs`,
      );
      writeFileSync(
        script,
        [
          "'use strict';",
          `const m = require(${JSON.stringify(pkg.name)});`,
          "process.stdout.write(JSON.stringify(Object.keys(m).filter((k) => k !== 'module.exports').sort()));",
        ].join("\n"),
      );
      try {
        // No --experimental-require-module: Node >= 20.19 loads ES modules from require() by default.
        const run = spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", script], {
          encoding: "utf8",
          cwd: scratch,
          timeout: 60_000,
        });
        expect(run.stderr).toBe("");
        expect(run.status).toBe(0);
        const required = JSON.parse(run.stdout) as string[];
        const imported = Object.keys(await import(pkg.name)).sort();
        expect(required).toEqual(imported);
        expect(required.length).toBeGreaterThan(0);
      } finally {
        rmSync(script, { force: true });
      }
    });
  }
});
