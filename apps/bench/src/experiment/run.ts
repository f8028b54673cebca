/**
 * Running the experiment: seeds in-process (one after the other) or in worker processes (in
 * parallel: the wasm backend runs one thread per process), then the report, the plots and the
 * experiment section of `docs/results.md`.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { initWasmTraining } from "@wider/backend";
import { formatWithBiome, replaceSection, writeFileAtomic } from "../docs.js";
import { aggregate, type ExperimentReport, markdownReport } from "./aggregate.js";
import type { ExperimentConfig } from "./config.js";
import { disposeData, type ExperimentData, loadExperimentData } from "./data.js";
import { experimentPlots } from "./plots.js";
import { runSeed, type SeedResult } from "./seed.js";

/** Where the experiment writes and how it reports. */
export interface ExperimentOptions {
  /** Folder of `<prefix>.json`, `<prefix>.md` and the SVG plots. */
  readonly outDir: string;
  readonly prefix: string;
  /** Markdown file whose `experiment` section is replaced, or null. */
  readonly docs: string | null;
  /** The command line recorded in the report. */
  readonly command: string;
  readonly log: (line: string) => void;
}

/** Runs the given seeds in this process on wasm, loading the data once. */
export const runSeedsInProcess = async (
  config: ExperimentConfig,
  seeds: readonly number[],
  log: (line: string) => void,
): Promise<{
  results: SeedResult[];
  data: Omit<ExperimentData, "test" | "widthTrain" | "widthTest"> & { testUsed: number };
}> => {
  await initWasmTraining();
  const data = await loadExperimentData(config);
  try {
    const results: SeedResult[] = [];
    for (const seed of seeds) {
      results.push(await runSeed(config, data, seed, (l) => log(`[seed ${seed}] ${l}`)));
    }
    const { test, widthTrain: _w, widthTest: _t, ...rest } = data;
    return { results, data: { ...rest, testUsed: test.labels.length } };
  } finally {
    disposeData(data);
  }
};

/** The worker entry (this package's `bin/experiment`), with a TypeScript loader under tsx/vitest. */
const workerCommand = (): { args: string[]; cwd: string } => {
  const self = fileURLToPath(import.meta.url);
  const ts = self.endsWith(".ts");
  const entry = join(self, "..", "..", "bin", ts ? "experiment.ts" : "experiment.js");
  // This package's folder, where `tsx` (a devDependency) resolves.
  const cwd = join(self, "..", "..", "..");
  return { args: ts ? ["--import", "tsx", entry] : [entry], cwd };
};

/** Runs one seed in a child process; its output lines are passed to `log`. */
const runSeedInWorker = async (
  config: ExperimentConfig,
  seed: number,
  dir: string,
  log: (line: string) => void,
): Promise<{
  result: SeedResult;
  meta: { dir: string; trainTotal: number; trainUsed: number; testUsed: number };
}> => {
  const file = join(dir, `seed-${seed}.json`);
  const { args, cwd } = workerCommand();
  const child = spawn(
    process.execPath,
    [
      ...args,
      "--worker",
      "--seed",
      String(seed),
      "--config-json",
      JSON.stringify(config),
      "--result",
      file,
    ],
    { stdio: ["ignore", "pipe", "pipe"], cwd },
  );
  const relay = (chunk: Buffer, buffer: { text: string }) => {
    buffer.text += chunk.toString("utf8");
    const lines = buffer.text.split("\n");
    buffer.text = lines.pop() ?? "";
    for (const l of lines)
      if (l.trim() !== "" && !l.includes("tfjs-node") && !l.startsWith("=====")) log(l);
  };
  const out = { text: "" };
  const err = { text: "" };
  child.stdout.on("data", (c: Buffer) => relay(c, out));
  child.stderr.on("data", (c: Buffer) => relay(c, err));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  if (code !== 0) throw new Error(`the worker for seed ${seed} exited with ${code}`);
  const parsed = JSON.parse(await readFile(file, "utf8")) as {
    result: SeedResult;
    meta: { dir: string; trainTotal: number; trainUsed: number; testUsed: number };
  };
  return parsed;
};

/** Runs `jobs` promises at a time. */
const pool = async <A, B>(
  items: readonly A[],
  jobs: number,
  f: (a: A) => Promise<B>,
): Promise<B[]> => {
  const out: B[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, lane));
  return out;
};

/**
 * Runs every seed (in `config.jobs` worker processes when above 1), aggregates, renders the plots
 * and writes `<outDir>/<prefix>.json`, `<prefix>.md`, the SVGs, and the docs section.
 */
export const runExperiment = async (
  config: ExperimentConfig,
  options: ExperimentOptions,
): Promise<ExperimentReport> => {
  const started = performance.now();
  const { log } = options;
  log(
    `experiment ${config.dataset}: seeds ${config.seeds.join(", ")}, B = ${config.epochs} epochs, ${config.jobs > 1 ? `${Math.min(config.jobs, config.seeds.length)} worker processes` : "in this process"}`,
  );
  let seeds: SeedResult[];
  let meta: { dir: string; trainTotal: number; trainUsed: number; testUsed: number };
  if (config.jobs > 1 && config.seeds.length > 1) {
    const dir = await mkdtemp(join(tmpdir(), "wider-experiment-"));
    try {
      const runs = await pool(config.seeds, config.jobs, (s) =>
        runSeedInWorker(config, s, dir, (l) => log(`[seed ${s}] ${l}`)),
      );
      seeds = runs.map((r) => r.result);
      meta = runs[0]!.meta;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  } else {
    const r = await runSeedsInProcess(config, config.seeds, log);
    seeds = r.results;
    meta = {
      dir: r.data.dir,
      trainTotal: r.data.trainTotal,
      trainUsed: r.data.train.count,
      testUsed: r.data.testUsed,
    };
  }
  const report = aggregate(config, seeds, {
    command: options.command,
    dataset: {
      name: config.dataset,
      dir: meta.dir,
      trainUsed: meta.trainUsed,
      trainTotal: meta.trainTotal,
      testUsed: meta.testUsed,
    },
    backend: `wasm (@wider/backend training kernels, TensorFlow.js ${tf.version.tfjs})`,
    seconds: (performance.now() - started) / 1000,
  });
  const plots = await experimentPlots(report, config, options.prefix);
  for (const p of plots) await writeFileAtomic(join(options.outDir, p.file), p.svg);
  const md = markdownReport(report, plots, `${options.prefix}.json`);
  await writeFileAtomic(
    join(options.outDir, `${options.prefix}.json`),
    `${JSON.stringify(report, null, 2)}\n`,
  );
  await writeFileAtomic(join(options.outDir, `${options.prefix}.md`), md);
  if (options.docs !== null) await replaceSection(options.docs, "experiment", md);
  const note = formatWithBiome([join(options.outDir, `${options.prefix}.json`)]);
  if (note !== null) log(note);
  log("");
  log(md);
  return report;
};

/** Worker mode: one seed, result written to `file` as JSON. */
export const runWorker = async (
  config: ExperimentConfig,
  seed: number,
  file: string,
): Promise<void> => {
  const r = await runSeedsInProcess(config, [seed], (l) =>
    process.stdout.write(`${l.replace(/^\[seed \d+\] /, "")}\n`),
  );
  await writeFileAtomic(
    file,
    JSON.stringify({
      result: r.results[0],
      meta: {
        dir: r.data.dir,
        trainTotal: r.data.trainTotal,
        trainUsed: r.data.train.count,
        testUsed: r.data.testUsed,
      },
    }),
  );
};
