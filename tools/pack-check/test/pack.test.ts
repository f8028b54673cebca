// Each package packed as it would be published (`pnpm pack`), then checked as a user receives it:
// publint and attw on the tarball, LICENSE and metadata present, source maps resolving inside it.
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, it } from "vitest";
import { type PublishedPackage, publishedPackages, repoRoot } from "./packages.js";

const scratch = mkdtempSync(join(tmpdir(), "wider-pack-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const bin = (name: string): string => join(repoRoot, "node_modules", ".bin", name);

interface Run {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a tool without blocking, so the checks of several tarballs overlap. */
const run = async (file: string, args: readonly string[]): Promise<Run> => {
  try {
    const { stdout, stderr } = await promisify(execFile)(file, [...args], { encoding: "utf8" });
    return { status: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { status: err.code ?? 1, stdout: err.stdout ?? "", stderr: err.stderr ?? String(e) };
  }
};

interface Packed {
  readonly tarball: string;
  readonly unpacked: string;
}

/** `pnpm pack` into the scratch folder and unpack, as npm would install it. */
const pack = (pkg: PublishedPackage): Packed => {
  const out = join(scratch, pkg.name.replace("/", "-"));
  mkdirSync(out, { recursive: true });
  execFileSync("pnpm", ["pack", "--pack-destination", out], { cwd: pkg.dir, stdio: "pipe" });
  const tgz = readdirSync(out).find((f) => f.endsWith(".tgz"));
  if (tgz === undefined) throw new Error(`pnpm pack wrote no tarball for ${pkg.name}`);
  const tarball = join(out, tgz);
  execFileSync("tar", ["xzf", tarball, "-C", out]);
  return { tarball, unpacked: join(out, "package") };
};

const walk = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );

const packages = publishedPackages();
const packed = new Map<string, Packed>();
beforeAll(() => {
  for (const pkg of packages) packed.set(pkg.name, pack(pkg));
}, 120_000);

const get = (name: string): Packed => {
  const p = packed.get(name);
  if (p === undefined) throw new Error(`${name} was not packed`);
  return p;
};

describe.concurrent.each(packages.map((p) => [p.name, p] as const))("%s as published", (name) => {
  it("passes publint --strict", async ({ expect }) => {
    const r = await run(bin("publint"), ["--strict", get(name).tarball]);
    expect(r.stdout + r.stderr).toContain("All good!");
    expect(r.status).toBe(0);
  });

  // ESM-only packages: attw's esm-only profile skips node10 and node16-from-CJS, whose model of
  // `require` predates require(esm) and always flags CJSResolvesToESM; require() on Node >= 20.19
  // is checked for real in require.test.ts.
  it("passes attw --profile esm-only", async ({ expect }) => {
    const r = await run(bin("attw"), [
      get(name).tarball,
      "--profile",
      "esm-only",
      "--format",
      "json",
    ]);
    const report = JSON.parse(r.stdout) as { analysis?: { problems?: unknown[] } };
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(report.analysis).toBeDefined();
  });

  it("ships LICENSE, README and the repository metadata", ({ expect }) => {
    const dir = get(name).unpacked;
    expect(readFileSync(join(dir, "LICENSE"), "utf8")).toMatch(
      /^MIT License\n\nCopyright \(c\) \d{4} The Wider authors/,
    );
    expect(existsSync(join(dir, "README.md"))).toBe(true);
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Record<
      string,
      unknown
    >;
    expect(manifest.license).toBe("MIT");
    for (const key of ["repository", "homepage", "bugs", "keywords", "engines"]) {
      expect(manifest[key], `${name} package.json lacks "${key}"`).toBeDefined();
    }
    expect(manifest.repository).toMatchObject({
      type: "git",
      directory: expect.stringMatching(/^packages\//),
    });
    expect(JSON.stringify(manifest)).not.toContain("workspace:");
  });

  it("has source maps whose sources are in the tarball", ({ expect }) => {
    const dir = get(name).unpacked;
    const maps = walk(dir).filter((f) => f.endsWith(".map"));
    expect(maps.length).toBeGreaterThan(0);
    const missing: string[] = [];
    for (const map of maps) {
      const { sources } = JSON.parse(readFileSync(map, "utf8")) as { sources: string[] };
      for (const s of sources) {
        const target = resolve(dirname(map), s);
        if (!existsSync(target)) missing.push(`${relative(dir, map)} -> ${s}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
