// The bench/examples/scripts layout of CONTRIBUTING.md, checked on every package (so a new package
// or a new bench follows it), and its one runner, scripts/run.mjs, run for real on a scratch package.
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "./packages.js";

const runner = join(repoRoot, "scripts", "run.mjs");
const packageDirs = readdirSync(join(repoRoot, "packages")).map((d) =>
  join(repoRoot, "packages", d),
);

interface Manifest {
  readonly name: string;
  readonly scripts?: Record<string, string>;
  readonly files?: readonly string[];
}
const manifestOf = (dir: string): Manifest =>
  JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Manifest;

describe.each(packageDirs.map((d) => [basename(d), d] as const))("packages/%s layout", (_, dir) => {
  const m = manifestOf(dir);
  const scripts = m.scripts ?? {};
  const has = (folder: string) => existsSync(join(dir, folder));

  it("runs bench/ and examples/ through the one runner, with TypeScript entries only", () => {
    for (const [folder, script, kind] of [
      ["bench", "bench", "bench"],
      ["examples", "example", "examples"],
    ] as const) {
      if (!has(folder)) {
        expect(
          scripts[script],
          `${m.name} has a ${script} script but no ${folder}/`,
        ).toBeUndefined();
        continue;
      }
      expect(scripts[script]).toBe(`node ../../scripts/run.mjs ${kind}`);
      const entries = readdirSync(join(dir, folder)).filter((f) => /\.(m?js|cjs|ts)$/.test(f));
      expect(entries.length).toBeGreaterThan(0);
      for (const f of entries) expect(f, `${folder}/${f} is not a .ts entry`).toMatch(/\.ts$/);
    }
    // No aliases next to the runner (`bench:x`): `pnpm bench <name>` runs one.
    expect(Object.keys(scripts).filter((k) => /^(bench|example)[:-]/.test(k))).toEqual([]);
  });

  it("names its fixture generator scripts/make_fixtures.py, run by `fixtures`", () => {
    const py = has("scripts")
      ? readdirSync(join(dir, "scripts")).filter((f) => f.endsWith(".py"))
      : [];
    if (py.length === 0) {
      expect(scripts.fixtures).toBeUndefined();
      return;
    }
    expect(py).toContain("make_fixtures.py");
    expect(scripts.fixtures).toBe("/usr/bin/python3 scripts/make_fixtures.py");
    for (const s of Object.values(scripts))
      expect(s, "TypeScript scripts go through the runner").not.toMatch(/--import tsx/);
  });

  it("type-checks and lints every folder it has", () => {
    const tsconfig = readFileSync(join(dir, "tsconfig.json"), "utf8");
    for (const folder of ["bench", "examples", "scripts"]) {
      expect(tsconfig).toContain(`"${folder}"`);
      if (has(folder)) expect(scripts.lint?.split(" ")).toContain(folder);
    }
  });

  it("does not publish them", () => {
    for (const folder of ["bench", "examples", "scripts"])
      expect(m.files ?? []).not.toContain(folder);
  });
});

describe("scripts/run.mjs", () => {
  const pkg = mkdtempSync(join(tmpdir(), "wider-runner-"));
  afterAll(() => rmSync(pkg, { recursive: true, force: true }));
  mkdirSync(join(pkg, "bench"));
  mkdirSync(join(pkg, "scripts"));
  // Typed TypeScript (run through tsx), each printing its name and arguments.
  for (const [folder, name] of [
    ["bench", "b"],
    ["bench", "a"],
    ["scripts", "tool"],
  ] as const)
    writeFileSync(
      join(pkg, folder, `${name}.ts`),
      `const args: string[] = process.argv.slice(2);\nconsole.log("${folder}/${name}", JSON.stringify(args), process.cwd());\n`,
    );
  writeFileSync(join(pkg, "bench", "ab-fails.ts"), "process.exit(3);\n");
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [runner, ...args], { cwd: pkg, encoding: "utf8" });

  it("runs the named entries in order from the package directory, passing the arguments on", () => {
    const r = run("bench", "b", "a", "--", "--x", "1");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const lines = r.stdout.split("\n").filter((l) => l.startsWith("bench/"));
    expect(lines).toEqual([`bench/b ["--x","1"] ${pkg}`, `bench/a ["--x","1"] ${pkg}`]);
    expect(run("scripts", "tool").stdout).toContain(`scripts/tool [] ${pkg}`);
  });

  it("runs every entry by default and stops at the first failure with its exit code", () => {
    const r = run("bench");
    expect(r.stdout).toContain("bench/a");
    expect(r.stdout).not.toContain("bench/b "); // after ab-fails.ts in name order
    expect(r.status).toBe(3);
  });

  it("refuses an unknown name, kind or folder, listing what is there", () => {
    const a = run("bench", "nope");
    expect(a.status).toBe(2);
    expect(a.stderr).toContain("no bench/nope.ts here; choose from a, ab-fails, b");
    expect(run("benches").stderr).toContain("expected bench, examples or scripts");
    expect(run("examples").stderr).toMatch(/examples does not exist/);
    expect(run("scripts").stderr).toContain("scripts needs one name (tool)");
  });
});
