/**
 * `pnpm bench`: runs the suite, writes `<out>/results.json` and `<out>/results.md` (default
 * `bench/` at the repository root) and the bench section of `docs/results.md`.
 *
 * Flags: `--smoke` (CI: tiny shapes, writes `bench/results-local-smoke/`, leaves the docs alone),
 * `--out DIR`, `--docs FILE` / `--no-docs`, `--threads N` (PyTorch), `--no-torch`.
 *
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { initWasmTraining } from "@wider/backend";
import { formatWithBiome, replaceSection, repoRoot, writeFileAtomic } from "../docs.js";
import { type BenchConfig, fullConfig, smokeConfig } from "./config.js";
import { markdownTable, workersTable } from "./report.js";
import { type BenchResults, runSuite } from "./suite.js";
import { workersSection } from "./workers.js";

/** Parsed flags of the bench command. */
export interface BenchCli {
  readonly config: BenchConfig;
  readonly out: string;
  readonly docs: string | null;
  readonly noTorch: boolean;
  /** `"workers"`: only the data-parallel section (its own files and docs subsection). */
  readonly only: "workers" | null;
}

/** Parses the bench command's argv (without node and the script); throws on a bad flag. */
export const parseBenchCli = (argv: readonly string[]): BenchCli => {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      smoke: { type: "boolean" },
      out: { type: "string" },
      docs: { type: "string" },
      "no-docs": { type: "boolean" },
      threads: { type: "string" },
      "no-torch": { type: "boolean" },
      only: { type: "string" },
    },
    strict: true,
  });
  const smoke = values.smoke === true;
  const root = repoRoot();
  let config = smoke ? smokeConfig : fullConfig;
  if (values.threads !== undefined) {
    const n = Number(values.threads);
    if (!Number.isInteger(n) || n < 1) {
      throw new Error(`--threads: ${values.threads} is not allowed; expected an integer >= 1`);
    }
    config = { ...config, threads: n };
  }
  const docs =
    values["no-docs"] === true
      ? null
      : (values.docs ?? (smoke ? null : join(root, "docs", "results.md")));
  if (values.only !== undefined && values.only !== "workers")
    throw new Error(`--only: ${values.only} is not allowed; expected workers`);
  return {
    config,
    out: values.out ?? join(root, "bench", smoke ? "results-local-smoke" : ""),
    docs,
    noTorch: values["no-torch"] === true,
    only: values.only === "workers" ? "workers" : null,
  };
};

/**
 * Runs the bench as the CLI does and writes its files; returns the results (null with
 * `--only workers`, which writes `results-workers.{json,md}` and the docs file's `bench-workers`
 * subsection instead).
 */
export const runBench = async (
  cli: BenchCli,
  log: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): Promise<BenchResults | null> => {
  log(`wider bench (${cli.config.mode}): writing ${cli.out}`);
  if (cli.only === "workers") {
    await initWasmTraining();
    const w = await workersSection(cli.config, {
      torch: cli.noTorch ? { disabled: true } : {},
      log,
    });
    const md = workersTable(w);
    await writeFileAtomic(join(cli.out, "results-workers.json"), `${JSON.stringify(w, null, 2)}\n`);
    await writeFileAtomic(join(cli.out, "results-workers.md"), md);
    const formatted = formatWithBiome([join(cli.out, "results-workers.json")]);
    if (formatted !== null) log(formatted);
    if (cli.docs !== null) await replaceSection(cli.docs, "bench-workers", md);
    log("");
    log(md);
    return null;
  }
  const results = await runSuite(cli.config, {
    torch: cli.noTorch ? { disabled: true } : {},
    log,
  });
  const table = markdownTable(results);
  await writeFileAtomic(join(cli.out, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  await writeFileAtomic(join(cli.out, "results.md"), table);
  if (cli.docs !== null) {
    await replaceSection(
      cli.docs,
      "bench",
      `## Benchmark: Wider vs PyTorch 1.13\n\nCommand: \`pnpm bench\` (writes bench/results.json and bench/results.md).\n\n${table}`,
    );
  }
  const note = formatWithBiome([join(cli.out, "results.json")]);
  if (note !== null) log(note);
  log("");
  log(table);
  return results;
};
