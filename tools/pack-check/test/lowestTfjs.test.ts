// The packed tarballs installed with plain npm next to the LOWEST @tensorflow/tfjs their peer
// ranges allow, from the npm registry, and a smoke run of every package on it (smoke/smoke.mjs).
// No registry, no test: an unreachable registry fails here with npm's message, it never skips.
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { publishedPackages, repoRoot } from "./packages.js";

const scratch = mkdtempSync(join(tmpdir(), "wider-lowest-tfjs-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Manifest {
  readonly peerDependencies?: Record<string, string>;
}

/** The floor `X.Y.Z` of a `^X.Y.Z` range (the only form the packages use for tfjs). */
const caretFloor = (range: string, where: string): string => {
  const m = /^\^(\d+\.\d+\.\d+)$/.exec(range);
  if (m === null) throw new Error(`${where}: expected a "^X.Y.Z" range, got "${range}"`);
  return m[1]!;
};

// @wider/backend pins tfjs 4.22.0 exactly (it uses the wasm backend's internals), and
// @wider/parallel runs its replicas on it: neither is part of this.
const packages = publishedPackages().filter(
  (p) => p.name !== "@wider/backend" && p.name !== "@wider/parallel",
);

/** The one floor of every package's tfjs-core / tfjs-layers peer range. */
const lowest = (): string => {
  const floors = new Set<string>();
  for (const p of packages) {
    const peers = (p.manifest as Manifest).peerDependencies ?? {};
    for (const dep of ["@tensorflow/tfjs-core", "@tensorflow/tfjs-layers"]) {
      const range = peers[dep];
      if (range !== undefined) floors.add(caretFloor(range, `${p.name} ${dep}`));
    }
  }
  expect([...floors], "every package declares the same tfjs floor").toHaveLength(1);
  return [...floors][0]!;
};

describe("the lowest supported tfjs", () => {
  it("installs from the npm registry with the packed tarballs and runs the smoke", () => {
    const tfjs = lowest();
    const tarballs = packages.map((p) => {
      const out = join(scratch, "tgz", p.name.replace("/", "-"));
      mkdirSync(out, { recursive: true });
      execFileSync("pnpm", ["pack", "--pack-destination", out], { cwd: p.dir, stdio: "pipe" });
      const tgz = readdirSync(out).find((f) => f.endsWith(".tgz"));
      if (tgz === undefined) throw new Error(`pnpm pack wrote no tarball for ${p.name}`);
      return join(out, tgz);
    });
    const app = join(scratch, "app");
    mkdirSync(app);
    writeFileSync(
      join(app, "package.json"),
      JSON.stringify({ name: "lowest-tfjs-smoke", private: true, type: "module" }),
    );
    // Plain npm, strict peers (no --legacy-peer-deps, no --force): an ERESOLVE fails the test.
    // --prefer-offline reuses npm's cache where it can; a missing registry fails with npm's error.
    const install = spawnSync(
      "npm",
      [
        "install",
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        "--fetch-retries=1",
        // tfjs-core and tfjs-layers named too: npm otherwise resolves the packages' peer ranges
        // to the newest 4.x and nests tfjs's own exact 4.0.0 copies below it (two tfjs-cores).
        `@tensorflow/tfjs@${tfjs}`,
        `@tensorflow/tfjs-core@${tfjs}`,
        `@tensorflow/tfjs-layers@${tfjs}`,
        "fp-ts@^2.16.0",
        "io-ts@^2.2.20",
        ...tarballs,
      ],
      { cwd: app, encoding: "utf8", timeout: 150_000 },
    );
    expect(
      install.status,
      `npm install of tfjs ${tfjs} with the tarballs failed (is the npm registry reachable?):\n${install.stderr}`,
    ).toBe(0);
    const ls = spawnSync("npm", ["ls", "--all", "--parseable", "@tensorflow/tfjs-core"], {
      cwd: app,
      encoding: "utf8",
    });
    // One copy of tfjs-core (the smoke checks it is the floor).
    expect(ls.stdout.trim().split("\n")).toEqual([join(app, "node_modules/@tensorflow/tfjs-core")]);

    copyFileSync(join(repoRoot, "tools/pack-check/smoke/smoke.mjs"), join(app, "smoke.mjs"));
    const run = spawnSync(process.execPath, ["smoke.mjs"], {
      cwd: app,
      encoding: "utf8",
      timeout: 120_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const last = run.stdout.trim().split("\n").at(-1) ?? "";
    const report = JSON.parse(last) as { tfjs: string; checks: Record<string, string> };
    expect(report.tfjs).toBe(tfjs);
    expect(Object.keys(report.checks)).toEqual([
      "schedules",
      "averaging: swa update",
      "averaging + swag: model.fit callbacks",
      "weights: save and load",
      "ensembling: FGE snapshots and ensemble",
      "geometry: a ray",
      "training: steps",
      "models: build",
      "data: batches",
      "distributed: loads",
      "no tensor leak",
    ]);
    expect(new Set(Object.values(report.checks))).toEqual(new Set(["ok"]));
  }, 300_000);
});
