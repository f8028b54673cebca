#!/usr/bin/env node
// The one runner of a package's benchmarks, examples and TypeScript dev scripts (CONTRIBUTING.md):
//
//   node ../../scripts/run.mjs bench [name...] [-- args]     every bench/*.ts, or the named ones
//   node ../../scripts/run.mjs examples [name...] [-- args]  every examples/*.ts, or the named ones
//   node ../../scripts/run.mjs scripts name [-- args]        one scripts/<name>.ts
//
// run from a package's directory (its `bench`, `example` and script entries in package.json do so).
// Each file runs from source with tsx (`node --import tsx`), one after the other in name order,
// with the package directory as working directory; the first failure stops the run with its exit
// code. Python fixture generators are not run here: `pnpm fixtures` (scripts/make_fixtures.py).
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { basename, join } from "node:path";

const kinds = { bench: "bench", examples: "examples", scripts: "scripts" };
const [kind, ...rest] = process.argv.slice(2);
const dash = rest.indexOf("--");
const names = dash < 0 ? rest : rest.slice(0, dash);
const args = dash < 0 ? [] : rest.slice(dash + 1);
const fail = (message) => {
  process.stderr.write(`run: ${message}\n`);
  process.exit(2);
};
if (!(kind in kinds))
  fail(
    `expected bench, examples or scripts, got ${JSON.stringify(kind ?? "")}; see scripts/run.mjs`,
  );
const dir = join(process.cwd(), kinds[kind]);
if (!existsSync(dir)) fail(`${dir} does not exist; run from a package that has ${kinds[kind]}/`);
const available = readdirSync(dir)
  .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
  .map((f) => basename(f, ".ts"))
  .sort();
if (kind === "scripts" && names.length !== 1)
  fail(`scripts needs one name (${available.join(", ")})`);
for (const n of names)
  if (!available.includes(n))
    fail(`no ${kinds[kind]}/${n}.ts here; choose from ${available.join(", ") || "(none)"}`);
const chosen = names.length > 0 ? names : available;
if (chosen.length === 0) fail(`no ${kinds[kind]}/*.ts here`);

// tsx from the repository root's devDependencies, so a package needs no copy of its own.
const tsx = import.meta.resolve("tsx");
for (const name of chosen) {
  if (chosen.length > 1) process.stdout.write(`\n== ${kinds[kind]}/${name}.ts\n`);
  const r = spawnSync(process.execPath, ["--import", tsx, join(dir, `${name}.ts`), ...args], {
    stdio: "inherit",
  });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
