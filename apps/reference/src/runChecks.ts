/**
 * The checks a run makes before it writes anything: the output directory policy (`--force`,
 * `--resume`, a foreign directory), where the checkpoint lives, what this machine can still hold,
 * and the run's sizes against it.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { readdir, rm, statfs } from "node:fs/promises";
import { totalmem } from "node:os";
import { join } from "node:path";
import { getHeapStatistics } from "node:v8";
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { AppError } from "./AppError.js";
import { checkCheckpoint } from "./checkpoint.js";
import type { Config } from "./config.js";
import { type AppDataset, stepsPerEpoch } from "./dataset.js";
import {
  bytes,
  type Capacity,
  checkLimits,
  estimateRun,
  machineShare,
  wasmHeapLimit,
} from "./limits.js";
import { lockName } from "./lock.js";
import { parameterCount } from "./models.js";
import { fsError } from "./outputDir.js";
import type { RunOptions } from "./run.js";

/** The files a run writes into its output directory (`--force` removes exactly these). */
export const outputEntries = ["checkpoint", "report.json", "report.html"] as const;

/** Where a run keeps its checkpoint. */
export const checkpointDir = (out: string): string => join(out, "checkpoint");

/** Whether `out` holds a checkpoint manifest. */
export const hasCheckpoint = (out: string): boolean =>
  existsSync(join(checkpointDir(out), "manifest.json"));

/** The one line for `--resume` on a directory without a checkpoint (exit 1). */
export const noCheckpoint = (out: string): AppError =>
  new AppError(
    `--resume: ${out} holds no checkpoint (${checkpointDir(out)}/manifest.json); start a new run without --resume`,
    1,
  );

/** Entries of the output directory that are not the run's files (the lock and its leftovers). */
const isLockEntry = (name: string): boolean => name === lockName || name.startsWith(`${lockName}.`);

/**
 * Applies the output directory policy to the existing (and locked) directory `out`: an empty one
 * is used; a non-empty one is refused unless `force` (the run's own files are removed, unless
 * `dryRun`) or `resume` (its checkpoint must exist). Run it with `dryRun` before every other check
 * and for real only after all of them passed.
 */
export const prepareOutDir = async (
  out: string,
  mode: { readonly force: boolean; readonly resume: boolean },
  dryRun = false,
): Promise<void> => {
  if (mode.resume) {
    if (!hasCheckpoint(out)) throw noCheckpoint(out);
    return;
  }
  if (!existsSync(out)) return;
  const entries = await readdir(out).catch(() => {
    throw new AppError(`--out: ${out} exists and is not a readable directory`);
  });
  if (entries.filter((e) => !isLockEntry(e)).length === 0) return;
  if (!mode.force)
    throw new AppError(
      `--out: ${out} already exists and is not empty; pass --force to overwrite the run in it, --resume to continue it, or choose another --out`,
    );
  if (dryRun) return;
  for (const e of outputEntries) {
    const path = join(out, e);
    await rm(path, { recursive: true, force: true }).catch((err: unknown) => {
      throw fsError("remove", path, err);
    });
  }
};

/** What this machine and process can still hold (see `limits.ts`). */
export const measureCapacity = async (
  out: string,
  backend: string,
  alreadyOnDisk: number,
): Promise<Capacity> => {
  const total = totalmem();
  const cgroup = process.constrainedMemory?.() ?? 0;
  const machine = cgroup > 0 && cgroup < total ? cgroup : total;
  const rss = process.memoryUsage().rss;
  let memory = machine * machineShare - rss;
  let memoryWhat = `${machineShare} of the ${cgroup > 0 && cgroup < total ? "cgroup's" : "machine's"} ${bytes(machine)} less this process's ${bytes(rss)}`;
  if (backend === "wasm") {
    const wasm = wasmHeapLimit - tf.memory().numBytes;
    if (wasm < memory) {
      memory = wasm;
      memoryWhat = "the wasm backend's 4 GiB heap";
    }
  }
  const heap = getHeapStatistics();
  let disk: number | null = null;
  try {
    const s = await statfs(out);
    disk = s.bavail * s.bsize + alreadyOnDisk;
  } catch {
    disk = null; // unknown: the write itself reports a full disk
  }
  return {
    memory: Math.max(0, memory),
    memoryWhat,
    heap: Math.max(0, heap.heap_size_limit - heap.used_heap_size),
    disk,
  };
};

/**
 * The checks that need the data and the model, all before anything is written: the batch size
 * against the training images, a resumed checkpoint against its state and the model, and the
 * run's sizes against this machine.
 */
export const checkRun = async (
  config: Config,
  options: RunOptions,
  data: AppDataset,
  model: tfl.LayersModel,
  backend: string,
): Promise<void> => {
  const spe = stepsPerEpoch(data.train.count, config.batchSize);
  if (spe === 0)
    throw new AppError(
      `batchSize: ${config.batchSize} is larger than the ${data.train.count} training images; lower --batch-size or raise --train-subset`,
    );
  let onDisk = 0;
  let trainingLeft = true;
  if (options.resume) {
    const r = await checkCheckpoint(checkpointDir(config.out), model);
    onDisk = r.blobBytes;
    trainingLeft = !r.done;
  }
  const estimate = estimateRun(config, parameterCount(model), spe);
  const capacity = await measureCapacity(config.out, backend, onDisk);
  // A finished training writes no more checkpoints: its disk need is the report's alone.
  checkLimits(config, estimate, trainingLeft ? capacity : { ...capacity, disk: null });
};
