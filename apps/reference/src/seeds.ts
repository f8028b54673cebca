/**
 * The multi-seed mode (`wider --seeds 0,1,2 [--jobs 2]`): one ordinary run per seed in
 * `<out>/seed-<s>/` (the same code path as a single run: `runExperiment`), then the aggregate
 * (`aggregate.json`, `aggregate.md`, `aggregate.html`) over their `report.json` files. Seed `s`
 * sets the model seed to `s` and offsets the data and geometry seeds by `s`, so `--seeds 0` is the
 * default single run. With `--resume` a finished seed (its `report.json` exists) is kept, an
 * interrupted one resumes from its checkpoint and a missing one starts; `--jobs N` runs N seeds at
 * once in child processes (wasm uses one thread per process, so N = cores fills the machine).
 *
 * @module
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import { AppError, Interrupted } from "./AppError.js";
import { type Aggregate, aggregate, readSeedReport } from "./aggregate.js";
import { writeAggregate } from "./aggregateReport.js";
import { Config } from "./config.js";
import { withAddedFields } from "./configFields.js";
import { lockName } from "./lock.js";
import { multiSwag, multiSwagFile } from "./multiswag.js";
import type { Progress } from "./progress.js";
import { runExperiment } from "./run.js";
import { checkpointDir } from "./runChecks.js";

/** How the seeds are run. */
export interface SeedsOptions {
  readonly seeds: readonly number[];
  /** Seeds run at once (child processes when > 1). */
  readonly jobs: number;
  readonly force: boolean;
  readonly resume: boolean;
  readonly progress: Progress;
  readonly signal: { aborted: boolean };
  /** Also write the aggregate's Markdown into this file's `experiment` section. */
  readonly docs: string | null;
  /** The command line, recorded in the aggregate's Markdown. */
  readonly command: string;
}

/** The config of seed `s` of a multi-seed run. */
export const seedConfig = (config: Config, s: number): Config => ({
  ...config,
  seed: s as Config["seed"],
  dataSeed: (config.dataSeed + s) as Config["dataSeed"],
  geometrySeed: (config.geometrySeed + s) as Config["geometrySeed"],
  out: join(config.out, `seed-${s}`),
});

/** Parses `--seeds`: comma-separated non-negative integers, no repeats. */
export const parseSeeds = (raw: string): number[] => {
  const parts = raw.split(",").map((p) => p.trim());
  const seeds = parts.map(Number);
  if (parts.some((p) => !/^\d+$/.test(p)) || seeds.length === 0)
    throw new AppError(
      `--seeds: "${raw}" is not allowed; expected seeds like 0,1,2 (integers >= 0)`,
    );
  if (new Set(seeds).size !== seeds.length)
    throw new AppError(`--seeds: "${raw}" repeats a seed; list each seed once`);
  return seeds;
};

/** The multi-seed run's base config, kept in its directory for `--resume`. */
export const seedsConfigFile = (out: string): string => join(out, "seeds.json");

/** Reads the base config of a multi-seed run (for `--resume --seeds`). */
export const readSeedsConfig = async (out: string): Promise<Config> => {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(seedsConfigFile(out), "utf8"));
  } catch {
    throw new AppError(
      `--resume: ${out} holds no multi-seed run (${seedsConfigFile(out)} is missing or unreadable); start it without --resume`,
    );
  }
  const c = Config.decode(withAddedFields(json));
  if (E.isLeft(c))
    throw new AppError(
      `--resume: ${seedsConfigFile(out)} is not a valid run configuration; start again with --force`,
    );
  return c.right;
};

/** What to do for one seed's directory. */
type SeedState = "done" | "resume" | "fresh";

const seedState = (out: string): SeedState =>
  existsSync(join(out, "report.json"))
    ? "done"
    : existsSync(join(checkpointDir(out), "manifest.json"))
      ? "resume"
      : "fresh";

/** The top directory's lock (held by the multi-seed run itself) is not a sign of old results. */
const isLockEntry = (name: string): boolean => name === lockName || name.startsWith(`${lockName}.`);

const aggregateFiles = ["aggregate.json", "aggregate.md", "aggregate.html"];

/** Checks the top-level directory: refuse a non-empty one unless `--force` or `--resume`. */
const prepareTop = async (out: string, options: SeedsOptions, seeds: readonly number[]) => {
  if (options.resume) {
    if (!existsSync(out))
      throw new AppError(`--resume: ${out} does not exist; start the seeds without --resume`);
    return;
  }
  if (existsSync(out)) {
    const entries = await readdir(out).catch(() => {
      throw new AppError(`--out: ${out} exists and is not a readable directory`);
    });
    if (entries.some((e) => !isLockEntry(e)) && !options.force)
      throw new AppError(
        `--out: ${out} already exists and is not empty; pass --force to overwrite the seeds in it, --resume to continue them, or choose another --out`,
      );
    if (options.force) {
      for (const f of aggregateFiles) await rm(join(out, f), { force: true });
      for (const s of seeds) await rm(join(out, `seed-${s}.json`), { force: true });
    }
  }
  await mkdir(out, { recursive: true });
};

const writeJsonAtomic = async (file: string, value: unknown): Promise<void> => {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`);
  await rename(tmp, file);
};

/** Runs one seed in a child process of this same binary; resolves to its exit code. */
const runChild = async (config: Config, mode: SeedState, force: boolean): Promise<number> => {
  const file = `${config.out}.json`;
  await writeJsonAtomic(file, config);
  const args = [process.argv[1] as string, "--config", file, "--quiet"];
  if (mode === "resume") args.push("--resume", "--out", config.out);
  else if (force) args.push("--force");
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "inherit", "inherit"] });
    child.on("error", reject);
    child.on("exit", (code, signal) => resolve(code ?? (signal === null ? 1 : 130)));
  });
};

/** Runs (or resumes) every seed, then writes and returns the aggregate. */
export const runSeeds = async (config: Config, options: SeedsOptions): Promise<Aggregate> => {
  const { seeds, progress } = options;
  await prepareTop(config.out, options, seeds);
  if (!options.resume) await writeJsonAtomic(seedsConfigFile(config.out), config);
  const configs = seeds.map((s) => seedConfig(config, s));
  const queue = configs.map((c, i) => ({ c, seed: seeds[i] as number }));
  const failures: string[] = [];
  let interrupted = false;

  const runOne = async ({ c, seed }: { c: Config; seed: number }): Promise<void> => {
    const state: SeedState = options.resume ? seedState(c.out) : "fresh";
    if (state === "done") {
      progress.log(`seed ${seed}: finished earlier (${c.out}/report.json)`);
      return;
    }
    progress.log(`seed ${seed}: ${state === "resume" ? "resuming" : "starting"} in ${c.out}`);
    if (options.jobs > 1) {
      const code = await runChild(c, state, options.force);
      if (code === 130) interrupted = true;
      else if (code !== 0) failures.push(`seed ${seed} (exit ${code})`);
      return;
    }
    try {
      await runExperiment(c, {
        resume: state === "resume",
        force: options.force,
        progress,
        signal: options.signal,
      });
    } catch (e) {
      if (e instanceof Interrupted) interrupted = true;
      throw e;
    }
  };

  const workers = Array.from({ length: Math.min(options.jobs, queue.length) }, async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      if (options.signal.aborted || interrupted) return;
      await runOne(next);
    }
  });
  await Promise.all(workers);
  if (interrupted || options.signal.aborted)
    throw new Interrupted(
      `while running the seeds; finished seeds are kept and the others have their checkpoints`,
    );
  if (failures.length > 0)
    throw new AppError(
      `${failures.join(", ")} failed (see the messages above); fix the cause and continue with --resume --seeds ${seeds.join(",")} --out ${config.out}`,
      1,
    );
  const reports = [];
  for (const c of configs) reports.push(await readSeedReport(join(c.out, "report.json")));
  progress.log("MultiSWAG: combining the seeds' SWAG states");
  const multi = await multiSwag(configs);
  if (multi !== null) await writeJsonAtomic(multiSwagFile(config.out), multi);
  const agg = aggregate(
    seeds,
    configs.map((c) => c.out),
    reports,
    multi,
  );
  await writeAggregate(config.out, agg, { docs: options.docs, command: options.command });
  return agg;
};
