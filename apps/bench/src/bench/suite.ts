/**
 * The benchmark suite: every JS figure on wasm (with @wider/backend's training kernels) and cpu,
 * the PyTorch peer on the same shapes in the same invocation, and the ratios.
 *
 * @module
 */
import { cpus, loadavg } from "node:os";
import * as tf from "@tensorflow/tfjs";
import { getThreadsCount } from "@tensorflow/tfjs-backend-wasm";
import { initWasmTraining, wasmHeapBytes } from "@wider/backend";
import { architecture } from "../models.js";
import type { BenchConfig } from "./config.js";
import { batchNormCost, fgeCost, trainingThroughput, updateCost } from "./measure.js";
import { runTorch, type TorchAbsent, type TorchOptions, type TorchRun } from "./torch.js";
import { type WorkersResults, workersSection } from "./workers.js";

// -------------------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------------------

/** The unit of a figure; samples/s is better higher, the others lower. */
export type Unit = "samples/s" | "ms" | "MB" | "tensors";

/** One measured operation, on both sides. */
export interface Figure {
  /** e.g. `train/cnn/wasm`. */
  readonly id: string;
  readonly operation: string;
  readonly model: string;
  /** The TensorFlow.js backend, or `process` for memory figures. */
  readonly backend: string;
  readonly unit: Unit;
  readonly wider: number;
  /** Timed runs on the JS side (1 for memory figures). */
  readonly runs: number;
  /** The same operation in PyTorch, or null when PyTorch did not run. */
  readonly pytorch: number | null;
  readonly pytorchRuns: number | null;
  /** `wider / pytorch`, or null. For samples/s higher is better; for ms and MB lower is. */
  readonly ratio: number | null;
  readonly note: string;
}

/** Everything `pnpm bench` writes to `results.json`. */
export interface BenchResults {
  readonly format: "wider-bench";
  readonly version: 1;
  readonly createdAt: string;
  readonly config: BenchConfig;
  readonly environment: {
    readonly node: string;
    readonly cpus: number;
    readonly cpuModel: string;
    readonly loadAverageStart: readonly number[];
    readonly loadAverageEnd: readonly number[];
    readonly tfjs: string;
    readonly jsThreads: string;
  };
  readonly pytorch: (Omit<TorchRun, "figures"> & { readonly threadsNote: string }) | TorchAbsent;
  readonly figures: readonly Figure[];
  /** The data-parallel section (`wider --workers N`): its own table. */
  readonly workers: WorkersResults;
  readonly seconds: number;
}

/** Options of {@link runSuite}: how to reach PyTorch, where progress goes. */
export interface SuiteOptions {
  readonly torch?: TorchOptions;
  readonly log?: (line: string) => void;
}

// -------------------------------------------------------------------------------------------------
// suite
// -------------------------------------------------------------------------------------------------

const round = (x: number): number => Number(x.toPrecision(6));

const wasmThreads = (): string => {
  let multithread = false;
  try {
    multithread = tf.env().getBool("WASM_HAS_MULTITHREAD_SUPPORT");
  } catch {
    multithread = false;
  }
  let simd = false;
  try {
    simd = tf.env().getBool("WASM_HAS_SIMD_SUPPORT");
  } catch {
    simd = false;
  }
  const binary = `SIMD ${simd ? "on" : "off"}`;
  return multithread
    ? `wasm: ${getThreadsCount()} threads, ${binary}`
    : `wasm: 1 thread (@tensorflow/tfjs-backend-wasm runs single-threaded under Node), ${binary}`;
};

/**
 * Runs every measurement once (JS side, then the PyTorch peer) and returns the figures. Leaves
 * the cpu backend active.
 *
 * @example
 * const results = await runSuite(smokeConfig, { torch: { disabled: true } });
 */
export const runSuite = async (
  config: BenchConfig,
  options: SuiteOptions = {},
): Promise<BenchResults> => {
  const log = options.log ?? (() => {});
  const started = performance.now();
  const loadStart = loadavg();
  type Js = Omit<Figure, "pytorch" | "pytorchRuns" | "ratio"> & { readonly torchId: string | null };
  const js: Js[] = [];
  const push = (f: Js) => {
    js.push(f);
    log(
      `  ${f.id.padEnd(22)} ${f.wider.toFixed(f.wider < 10 ? 3 : 1).padStart(10)} ${f.unit} (${f.runs} runs)`,
    );
  };

  await initWasmTraining();
  const tensorsAtStart = tf.memory().numTensors;
  const threads = `${wasmThreads()}; cpu: 1 thread (plain JS)`;
  log(`wasm backend with @wider/backend training kernels (${threads})`);
  const train = { seconds: config.seconds, minRuns: 3, warmupRuns: 2 };
  const stepMs: Record<string, number> = {};
  for (const name of ["mlp", "cnn"] as const) {
    const r = await trainingThroughput(name, config, train);
    stepMs[name] = r.timing.meanMs;
    push({
      id: `train/${name}/wasm`,
      torchId: `train/${name}`,
      operation: "training throughput (SGD step)",
      model: architecture[name],
      backend: "wasm",
      unit: "samples/s",
      wider: round(r.samplesPerSecond),
      runs: r.timing.runs,
      note: `batch ${config.batch}`,
    });
  }
  for (const rule of ["swa", "ema"] as const) {
    for (const name of ["mlp", "cnn"] as const) {
      const t = await updateCost(name, rule, config);
      const share = (100 * t.meanMs) / (stepMs[name] ?? Number.NaN);
      push({
        id: `${rule}-update/${name}/wasm`,
        torchId: `${rule}-update/${name}`,
        operation: rule === "swa" ? "one SWA update" : "one EMA update (decay 0.999)",
        model: architecture[name],
        backend: "wasm",
        unit: "ms",
        wider: round(t.meanMs),
        runs: t.runs,
        note: `fromModel copy + update; ${share.toFixed(2)}% of one wasm training step`,
      });
    }
  }
  const bn = await batchNormCost(config);
  push({
    id: "bn-update/cnn-bn/wasm",
    torchId: "bn-update/cnn-bn",
    operation: `BatchNorm re-estimation over ${config.bnSamples} samples`,
    model: architecture["cnn-bn"],
    backend: "wasm",
    unit: "ms",
    wider: round(bn.meanMs),
    runs: bn.runs,
    note: `updateBatchNorm, batches of ${config.batch}; PyTorch: swa_utils.update_bn`,
  });
  const fge = await fgeCost(config);
  push({
    id: "fge-predict/cnn/wasm",
    torchId: "fge-predict/cnn",
    operation: `FGE prediction, ${config.fgeMembers} members, ${config.fgeSamples} samples`,
    model: architecture.cnn,
    backend: "wasm",
    unit: "ms",
    wider: round(fge.meanMs),
    runs: fge.runs,
    note: `ensembleProbabilities (streaming softmax average), rows of ${config.predictBatch}`,
  });
  const heap = wasmHeapBytes();
  const workers = await workersSection(config, {
    log,
    ...(options.torch === undefined ? {} : { torch: options.torch }),
  });

  await tf.setBackend("cpu");
  log("cpu backend (pure JS)");
  for (const name of ["mlp", "cnn"] as const) {
    // The cpu backend trains the CNN at a few samples/s: a few steps of a smaller batch only.
    const budget =
      name === "cnn"
        ? { seconds: 0, minRuns: config.cpuCnnSteps, warmupRuns: config.cpuCnnWarmup }
        : { seconds: config.seconds, minRuns: 2, warmupRuns: 1 };
    const r = await trainingThroughput(
      name,
      name === "cnn" ? { ...config, batch: config.cpuCnnBatch } : config,
      budget,
    );
    push({
      id: `train/${name}/cpu`,
      torchId: `train/${name}`,
      operation: "training throughput (SGD step)",
      model: architecture[name],
      backend: "cpu",
      unit: "samples/s",
      wider: round(r.samplesPerSecond),
      runs: r.timing.runs,
      note:
        name === "cnn"
          ? `batch ${config.cpuCnnBatch} (PyTorch: ${config.batch}); ${r.timing.runs} steps after ${config.cpuCnnWarmup} warm-up`
          : `batch ${config.batch}`,
    });
  }
  const leaked = tf.memory().numTensors - tensorsAtStart;
  push({
    id: "memory/peak-rss",
    torchId: "memory/peak-rss",
    operation: "peak resident memory of the whole run",
    model: "all of the above",
    backend: "process",
    unit: "MB",
    wider: round(process.resourceUsage().maxRSS / 1024),
    runs: 1,
    note: `process maxRSS${heap === undefined ? "" : `; wasm heap ${(heap / 2 ** 20).toFixed(0)} MB`}`,
  });
  push({
    id: "memory/live-tensors",
    torchId: "memory/live-tensors",
    operation: "tensors still alive after the run (leaks)",
    model: "all of the above",
    backend: "process",
    unit: "tensors",
    wider: leaked,
    runs: 1,
    note: "tf.memory().numTensors after minus before; PyTorch: torch tensors found by gc",
  });

  log(`PyTorch peer (${config.threads} thread${config.threads === 1 ? "" : "s"})...`);
  const torch = runTorch(config, options.torch);
  if (!torch.available) log(`  ${torch.reason}; continuing with the JS figures only`);
  else
    log(
      `  torch ${torch.torch}, ${torch.threads} threads, OpenBLAS loaded: ${torch.openblas} (${torch.blas.join(", ")})`,
    );
  const figures: Figure[] = js.map(({ torchId, ...f }) => {
    const peer = torch.available && torchId !== null ? torch.figures[torchId] : undefined;
    const pytorch = peer === undefined ? null : round(peer.value);
    const ratio = pytorch === null || pytorch === 0 ? null : round(f.wider / pytorch);
    return { ...f, pytorch, pytorchRuns: peer?.runs ?? null, ratio };
  });
  let pytorch: BenchResults["pytorch"];
  if (torch.available) {
    const { figures: _unused, ...rest } = torch;
    pytorch = {
      ...rest,
      threadsNote: `torch.set_num_threads(${config.threads}), OMP_NUM_THREADS=OPENBLAS_NUM_THREADS=${config.threads}`,
    };
  } else {
    pytorch = torch;
  }
  return {
    format: "wider-bench",
    version: 1,
    createdAt: new Date().toISOString(),
    config,
    environment: {
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? "unknown",
      loadAverageStart: loadStart.map((l) => round(l)),
      loadAverageEnd: loadavg().map((l) => round(l)),
      tfjs: tf.version.tfjs,
      jsThreads: threads,
    },
    pytorch,
    figures,
    workers,
    seconds: round((performance.now() - started) / 1000),
  };
};
