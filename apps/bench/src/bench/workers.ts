/**
 * The data-parallel section of the bench (`wider --workers N`, `@wider/parallel`): training
 * throughput of the MLP and the CNN in this thread, on 1 worker and on 2 workers, side by side
 * with PyTorch 1.13 on 1 and 2 threads (the peer run again, training only, per thread count); the
 * scaling 2 ÷ 1 on both sides; BatchNorm re-estimation ÷ one inference pass over the same batches
 * on both sides; and a long run on 2 workers checking that neither the workers' tensors nor this
 * process's memory grow. Every row records the 1-minute load average when it was measured.
 *
 * @module
 */

import { availableParallelism, loadavg } from "node:os";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import * as tf from "@tensorflow/tfjs";
import { updateBatchNorm } from "@wider/averaging";
import { buildModel as buildSpec, type ModelSpec } from "@wider/models";
import { type ParallelRunner, parallelRunner } from "@wider/parallel";
import { nodeTransport } from "@wider/parallel/node";
import { constant } from "@wider/schedules";
import {
  type Batch,
  disposeOptState,
  initLoop,
  type RunResult,
  type RunStepsOptions,
  runSteps,
  sgd,
  softmaxCrossEntropy,
} from "@wider/training";
import { architecture, buildModel } from "../models.js";
import type { BenchConfig } from "./config.js";
import { probeMachine } from "./machine.js";
import { runTorch, type TorchOptions } from "./torch.js";

/** One row of the workers table: a figure on each side, their thread counts, the load then. */
export interface WorkersRow {
  readonly id: string;
  readonly operation: string;
  readonly model: string;
  readonly unit: "samples/s" | "ratio";
  /** Wider's side: how it ran (backend, threads) and its figure. */
  readonly widerSide: string;
  readonly wider: number;
  /** The timed rounds behind `wider` (its median), when there were several. */
  readonly widerRounds: readonly number[];
  /** PyTorch's side (threads), or why it is absent. */
  readonly pytorchSide: string;
  readonly pytorch: number | null;
  /** `wider / pytorch` (samples/s: higher is better for Wider; ratios: lower), or null. */
  readonly ratio: number | null;
  /** The issue's target for this row, and whether this run met it; "" where none. */
  readonly target: string;
  /** 1-minute load average right after the row was measured (both sides when PyTorch ran). */
  readonly load: string;
  readonly note: string;
}

/** The leak check: a long run on 2 workers, tensors and memory before and after. */
export interface LeakCheck {
  readonly steps: number;
  readonly workers: number;
  readonly model: string;
  readonly samplesPerSecond: number;
  readonly workerTensorsBefore: readonly number[];
  readonly workerTensorsAfter: readonly number[];
  readonly mainTensorsBefore: number;
  readonly mainTensorsAfter: number;
  /** MB, after a forced garbage collection. */
  readonly rssBefore: number;
  readonly rssAfter: number;
  readonly heapUsedBefore: number;
  readonly heapUsedAfter: number;
  /** The same at half the steps: growth that stops (a heap reaching its size) tells from a leak. */
  readonly half: {
    readonly workerTensors: readonly number[];
    readonly mainTensors: number;
    readonly rss: number;
    readonly heapUsed: number;
  };
  readonly load: string;
}

/** Everything the workers section adds to `results.json`. */
export interface WorkersResults {
  readonly cores: number;
  readonly rows: readonly WorkersRow[];
  readonly leak: LeakCheck;
}

const round = (x: number): number => Number(x.toPrecision(6));
const load1 = (): number => round(loadavg()[0] ?? Number.NaN);
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

/** The two models' specs, as `models.ts` builds them (`@wider/models` defaults). */
const specs: Record<"mlp" | "cnn", ModelSpec> = {
  mlp: { kind: "mlp", hidden: [512, 256], inputShape: [28, 28, 1], seed: 0 },
  cnn: { kind: "cnn", filters: [32, 64], dense: 128, inputShape: [28, 28, 1], seed: 0 },
};

const build = (spec: ModelSpec): tf.LayersModel => {
  const m = buildSpec(spec);
  if (m._tag === "Left") throw new Error(`bench model: ${m.left.message}`);
  return m.right;
};

/** `gc()` through V8's flag (no `--expose-gc` needed on the command line). */
const collectGarbage = (): void => {
  setFlagsFromString("--expose_gc");
  (runInNewContext("gc") as () => void)();
};

const mb = (bytes: number): number => round(bytes / 2 ** 20);

type Run = (o: RunStepsOptions) => Promise<RunResult>;

/**
 * Samples/s of `steps` SGD steps (lr 0.01, no momentum: the PyTorch peer's optimizer) of every
 * run in `runs` at once, each on its own model (built once per runner, before the rounds: a
 * model built here would leave the main thread's optimising compiler and garbage collector at
 * work on V8's background threads during the timed steps, which takes a core from one of 2
 * replicas), after one untimed step each (the replicas' first run copies the weights in and
 * allocates the shared buffers) and a full garbage collection: all samples over the wall time.
 * Two 1-worker runs of half a batch at once, sharing nothing (no barrier, no summed gradients),
 * give what 2 replicas would reach if synchronising them were free, on this machine's shared
 * cores, caches and memory bandwidth.
 */
const throughput = async (
  runs: readonly { readonly run: Run; readonly model: tf.LayersModel }[],
  data: readonly Batch[],
  steps: number,
): Promise<number> => {
  const optimizer = sgd();
  const base = (model: tf.LayersModel) => ({
    model,
    optimizer,
    loss: softmaxCrossEntropy(),
    schedule: constant(0.01),
    batches: (step: number) => data[step % data.length] as Batch,
    disposeBatches: false,
  });
  const warm = await Promise.all(
    runs.map(({ run, model }) => run({ ...base(model), state: initLoop(model, optimizer), to: 1 })),
  );
  collectGarbage();
  const t0 = performance.now();
  const done = await Promise.all(
    runs.map(({ run, model }, k) =>
      run({
        ...base(model),
        state: { step: 1, opt: (warm[k] as RunResult).state.opt },
        to: 1 + steps,
      }),
    ),
  );
  const seconds = (performance.now() - t0) / 1000;
  for (const r of done) disposeOptState(r.state.opt);
  return (runs.length * (data[0]?.x.shape[0] ?? 0) * steps) / seconds;
};

const startRunner = (spec: ModelSpec, workers: number): Promise<ParallelRunner> =>
  parallelRunner({
    transport: nodeTransport(),
    workers,
    backend: "wasm",
    model: { spec },
    optimizer: { kind: "sgd" },
  });

/** One inference pass (training false, a one-value read per batch as a predict loop does). */
const inferencePass = (model: tf.LayersModel, xs: readonly tf.Tensor[]): void => {
  for (const x of xs)
    tf.tidy(() => {
      const out = model.apply(x, { training: false }) as tf.Tensor;
      out.slice([0, 0], [1, 1]).dataSync();
    });
};

const ms = async (f: () => unknown): Promise<number> => {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
};

/** Random input batches covering `samples` samples (the last one smaller); the caller owns them. */
const inputBatches = (samples: number, batch: number): tf.Tensor4D[] => {
  const out: tf.Tensor4D[] = [];
  for (let s = 0, i = 0; s < samples; s += batch, i++)
    out.push(tf.randomNormal([Math.min(batch, samples - s), 28, 28, 1], 0, 1, "float32", 10 + i));
  return out;
};

/**
 * The target's verdict. Above one runnable process per core (the 1-minute load average at the
 * measurement over the cores), threads wait for a core and threads that meet at barriers (the
 * replicas; PyTorch's OpenMP team) lose most: the verdict is then given as measured but marked
 * not judged.
 */
const targetText = (
  value: number | null,
  op: ">=" | "<=",
  goal: number,
  load: number,
  cores: number,
): string => {
  const text = `${op === ">=" ? "≥" : "≤"} ${goal.toFixed(1)}x`;
  if (value === null) return `${text}: not measured`;
  const verdict = (op === ">=" ? value >= goal : value <= goal) ? "met" : "not met";
  return load > cores
    ? `${text}: ${verdict} as measured, not judged (load ${load.toFixed(1)} on ${cores} cores)`
    : `${text}: ${verdict}`;
};

/**
 * Runs the workers section on the wasm backend (active on entry, with `@wider/backend`'s training
 * kernels) and the PyTorch peer's training figures on 1 and on 2 threads.
 *
 * @example
 * const w = await workersSection(fullConfig, { torch: {} , log: console.log });
 */
export const workersSection = async (
  config: BenchConfig,
  options: { readonly torch?: TorchOptions; readonly log?: (line: string) => void } = {},
): Promise<WorkersResults> => {
  const log = options.log ?? (() => {});
  const cores = availableParallelism();
  log(`data-parallel workers (${cores} cores): in-process, 1 worker, 2 workers, alternated`);
  const data: Batch[] = Array.from({ length: 4 }, (_, i) => ({
    x: tf.randomNormal([config.batch, 28, 28, 1], 0, 1, "float32", 200 + i),
    y: tf.randomUniform([config.batch], 0, 10, "int32", 300 + i),
  }));
  const js: Record<
    string,
    { rounds: number[]; load: number; steps: number; model: "mlp" | "cnn" }
  > = {};
  const variants = ["in-process", "1 worker", "2 workers"] as const;
  // Half batches for the ceiling: two unsynchronised 1-worker runs at once.
  const halves: Batch[] = data.map((b) => ({
    x: b.x.slice(0, Math.floor(config.batch / 2)),
    y: b.y.slice(0, Math.floor(config.batch / 2)),
  }));
  const pairs: Record<string, number[]> = {};
  try {
    for (const name of ["mlp", "cnn"] as const) {
      const spec = specs[name];
      const steps = config.workerSteps[name];
      const runners: Record<string, ParallelRunner> = {
        "1 worker": await startRunner(spec, 1),
        "2 workers": await startRunner(spec, 2),
        "1 worker, second": await startRunner(spec, 1),
      };
      // One model per runner for every round (the weights go on training; the speed of a step
      // does not depend on them).
      const models = Object.fromEntries(
        [...variants, "1 worker, second"].map((v) => [v, build(spec)] as const),
      ) as Record<(typeof variants)[number] | "1 worker, second", tf.LayersModel>;
      try {
        for (const v of variants) js[`${name}/${v}`] = { rounds: [], load: 0, steps, model: name };
        // The first rounds are a warm-up, not recorded: fresh workers compile the wasm modules
        // and the JavaScript of a step, and V8 tiers the hot functions up over a few hundred
        // steps (its background compiler runs during them).
        const warmup = config.workerWarmupRounds;
        for (let r = -warmup; r < config.workerRounds; r++)
          for (const v of variants) {
            const runner = runners[v];
            const sps = await throughput(
              [{ run: runner?.runSteps ?? runSteps, model: models[v] }],
              data,
              steps,
            );
            const entry = js[`${name}/${v}`] as (typeof js)[string];
            if (r >= 0) {
              entry.rounds.push(round(sps));
              entry.load = load1();
            }
            log(
              `  train/${name} ${v.padEnd(10)} ${sps.toFixed(0).padStart(7)} samples/s${r < 0 ? " (warm-up)" : ""}`,
            );
            if (v === "2 workers") {
              const a = runners["1 worker"] as ParallelRunner;
              const b = runners["1 worker, second"] as ParallelRunner;
              const pair = await throughput(
                [
                  { run: a.runSteps, model: models["1 worker"] },
                  { run: b.runSteps, model: models["1 worker, second"] },
                ],
                halves,
                steps,
              );
              if (r >= 0) pairs[name] = [...(pairs[name] ?? []), round(pair)];
              log(
                `  train/${name} 2 x 1 worker, half batch each, unsynchronised ${pair.toFixed(0)} samples/s${r < 0 ? " (warm-up)" : ""}`,
              );
            }
          }
      } finally {
        for (const runner of Object.values(runners)) await runner.close();
        for (const m of Object.values(models)) m.dispose();
      }
    }

    // BatchNorm re-estimation against one inference pass, alternated, on the same batches.
    const bnModel = buildModel("cnn-bn", 0);
    const xs = inputBatches(config.bnSamples, config.batch);
    const bnRounds = { update: [] as number[], inference: [] as number[] };
    try {
      inferencePass(bnModel, xs); // warm-up: kernels compiled, weights uploaded
      await updateBatchNorm(bnModel, xs);
      for (let r = 0; r < config.workerRounds; r++) {
        bnRounds.inference.push(await ms(() => inferencePass(bnModel, xs)));
        bnRounds.update.push(await ms(() => updateBatchNorm(bnModel, xs)));
      }
    } finally {
      tf.dispose(xs);
      bnModel.dispose();
    }
    const bnLoad = load1();
    const bnJs = median(bnRounds.update) / median(bnRounds.inference);
    log(
      `  BN re-estimation ÷ one inference pass: ${bnJs.toFixed(2)}x (${median(bnRounds.update).toFixed(0)} ms ÷ ${median(bnRounds.inference).toFixed(0)} ms)`,
    );

    // The leak check: a long MLP run on 2 workers after a short one.
    const leakRunner = await startRunner(specs.mlp, 2);
    const leakModel = build(specs.mlp);
    let leak: LeakCheck;
    try {
      await throughput([{ run: leakRunner.runSteps, model: leakModel }], data, 4);
      collectGarbage();
      const before = {
        workers: [...leakRunner.workerTensors()],
        main: tf.memory().numTensors,
        mem: process.memoryUsage(),
      };
      const first = Math.floor(config.leakSteps / 2);
      const t0 = performance.now();
      await throughput([{ run: leakRunner.runSteps, model: leakModel }], data, first);
      const t1 = performance.now();
      collectGarbage();
      const halfMem = process.memoryUsage();
      const half = {
        workerTensors: [...leakRunner.workerTensors()],
        mainTensors: tf.memory().numTensors,
        rss: mb(halfMem.rss),
        heapUsed: mb(halfMem.heapUsed),
      };
      const t2 = performance.now();
      await throughput(
        [{ run: leakRunner.runSteps, model: leakModel }],
        data,
        config.leakSteps - first,
      );
      const sps = (config.batch * config.leakSteps * 1000) / (t1 - t0 + performance.now() - t2);
      collectGarbage();
      const mem = process.memoryUsage();
      leak = {
        steps: config.leakSteps,
        workers: 2,
        model: architecture.mlp,
        samplesPerSecond: round(sps),
        workerTensorsBefore: before.workers,
        workerTensorsAfter: [...leakRunner.workerTensors()],
        mainTensorsBefore: before.main,
        mainTensorsAfter: tf.memory().numTensors,
        rssBefore: mb(before.mem.rss),
        rssAfter: mb(mem.rss),
        heapUsedBefore: mb(before.mem.heapUsed),
        heapUsedAfter: mb(mem.heapUsed),
        half,
        load: String(load1()),
      };
    } finally {
      await leakRunner.close();
      leakModel.dispose();
    }
    log(
      `  leak check: ${leak.steps} steps on 2 workers: worker tensors ${leak.workerTensorsBefore.join("/")} -> ${leak.workerTensorsAfter.join("/")}, main ${leak.mainTensorsBefore} -> ${leak.mainTensorsAfter}, RSS ${leak.rssBefore} -> ${leak.rssAfter} MB, heap ${leak.heapUsedBefore} -> ${leak.heapUsedAfter} MB`,
    );

    // PyTorch on 1 and on 2 threads, training figures (and the BN pass) only.
    const peers = ([1, 2] as const).map((threads) => {
      log(`PyTorch peer, training only, ${threads} thread${threads === 1 ? "" : "s"}...`);
      const peer = runTorch({ ...config, threads }, { ...options.torch, only: "workers" });
      if (!peer.available) log(`  ${peer.reason}`);
      return { threads, peer, load: load1() };
    });
    const torchFigure = (threads: 1 | 2, id: string): { value: number | null; side: string } => {
      const p = peers[threads - 1];
      if (p === undefined || !p.peer.available)
        return {
          value: null,
          side: `PyTorch not run${p !== undefined && !p.peer.available ? ` (${p.peer.reason})` : ""}`,
        };
      const f = p.peer.figures[id];
      return {
        value: f === undefined ? null : round(f.value),
        side: `PyTorch ${p.peer.torch}, ${p.peer.threads} thread${p.peer.threads === 1 ? "" : "s"}`,
      };
    };
    const torchLoad = (threads: 1 | 2): string => {
      const p = peers[threads - 1];
      return p?.peer.available === true ? `; PyTorch ${p.load}` : "";
    };

    const rows: WorkersRow[] = [];
    for (const name of ["mlp", "cnn"] as const) {
      const fig = (v: (typeof variants)[number]) => js[`${name}/${v}`] as (typeof js)[string];
      for (const v of variants) {
        const f = fig(v);
        const threads = v === "2 workers" ? 2 : 1;
        const t = torchFigure(threads, `train/${name}`);
        const wider = round(median(f.rounds));
        const ratio = t.value === null ? null : round(wider / t.value);
        rows.push({
          id: `train/${name}/${v.replace(" ", "-")}`,
          operation: "training throughput (SGD step)",
          model: architecture[name],
          unit: "samples/s",
          widerSide:
            v === "in-process"
              ? "wasm, this thread (runSteps, no worker)"
              : `wasm, ${v} (${threads} thread${threads === 1 ? "" : "s"}; main thread waits)`,
          wider,
          widerRounds: f.rounds,
          pytorchSide: t.side,
          pytorch: t.value,
          ratio,
          target:
            v === "2 workers"
              ? targetText(
                  ratio,
                  ">=",
                  name === "cnn" ? 0.8 : 1.0,
                  Math.max(f.load, peers[1]?.load ?? 0),
                  cores,
                )
              : "",
          load: `Wider ${f.load}${torchLoad(threads)}`,
          note: `batch ${config.batch}, SGD lr 0.01; median of ${f.rounds.length} rounds of ${f.steps} steps after ${config.workerWarmupRounds} warm-up round${config.workerWarmupRounds === 1 ? "" : "s"} (${f.rounds.map((x) => x.toFixed(0)).join(", ")})`,
        });
      }
      const two = median(fig("2 workers").rounds);
      const one = median(fig("1 worker").rounds);
      const t2 = torchFigure(2, `train/${name}`).value;
      const t1 = torchFigure(1, `train/${name}`).value;
      const scaling = round(two / one);
      const pairRounds = pairs[name] ?? [];
      const ceiling = round(median(pairRounds) / one);
      const torchScaling = t1 === null || t2 === null ? null : round(t2 / t1);
      rows.push({
        id: `scaling/${name}`,
        operation: "scaling: 2 ÷ 1 (training throughput)",
        model: architecture[name],
        unit: "ratio",
        widerSide: "wasm, 2 workers ÷ 1 worker",
        wider: scaling,
        widerRounds: [],
        pytorchSide: t2 === null ? torchFigure(2, "").side : "PyTorch 2 threads ÷ 1 thread",
        pytorch: torchScaling,
        ratio: null,
        target: name === "cnn" ? targetText(scaling, ">=", 1.7, fig("2 workers").load, cores) : "",
        load: `Wider ${fig("2 workers").load}${torchLoad(2)}`,
        note: `medians of the rows above; the machine has ${cores} cores; ${(100 * (scaling / ceiling)).toFixed(0)} % of the ceiling below`,
      });
      rows.push({
        id: `ceiling/${name}`,
        operation:
          "scaling ceiling: 2 unsynchronised runs at once ÷ 1 worker (what 2 workers would reach if synchronising them were free)",
        model: architecture[name],
        unit: "ratio",
        widerSide: `wasm, 2 independent 1-worker runs of ${Math.floor(config.batch / 2)} rows each at once ÷ 1 worker`,
        wider: ceiling,
        widerRounds: pairRounds,
        pytorchSide: "n/a",
        pytorch: null,
        ratio: null,
        target: "",
        load: `Wider ${fig("2 workers").load}`,
        note: `two 1-worker runners, each on its own model, sharing nothing but the machine (cores, caches, memory bandwidth); together ${Math.round(median(pairRounds)).toLocaleString("en-US")} samples/s (median of ${pairRounds.length} rounds: ${pairRounds.map((x) => x.toFixed(0)).join(", ")}), measured right after each 2-worker round`,
      });
    }
    const bnT = torchFigure(1, "bn-update/cnn-bn").value;
    const inferT = torchFigure(1, "infer/cnn-bn").value;
    const bnTorch = bnT === null || inferT === null ? null : round(bnT / inferT);
    rows.push({
      id: "bn-vs-inference/cnn-bn",
      operation: `BatchNorm re-estimation ÷ one inference pass (${config.bnSamples} samples)`,
      model: architecture["cnn-bn"],
      unit: "ratio",
      widerSide: "wasm, 1 thread (updateBatchNorm ÷ predict loop)",
      wider: round(bnJs),
      widerRounds: bnRounds.update.map((u, i) => round(u / (bnRounds.inference[i] ?? Number.NaN))),
      pytorchSide:
        bnTorch === null ? torchFigure(1, "").side : "PyTorch 1 thread (update_bn ÷ eval no_grad)",
      pytorch: bnTorch,
      ratio: null,
      target: targetText(bnJs, "<=", 1.2, bnLoad, cores),
      load: `Wider ${bnLoad}${torchLoad(1)}`,
      note: `batches of ${config.batch}; Wider medians ${median(bnRounds.update).toFixed(0)} ms ÷ ${median(bnRounds.inference).toFixed(0)} ms over ${bnRounds.update.length} alternated rounds`,
    });
    // The machine itself: what a second thread adds to a memory-bound and to an arithmetic loop.
    for (const kind of ["stream", "arithmetic"] as const) {
      const p = await probeMachine(kind, config.machineProbeMs);
      const load = load1();
      log(
        `  machine/${kind}: 1 thread ${p.one.toFixed(2)} ${p.unit}, 2 threads ${p.two.toFixed(2)} ${p.unit}`,
      );
      rows.push({
        id: `machine/${kind}`,
        operation:
          kind === "stream"
            ? "the machine: a memory-bound loop (reading a 64 MB array), 2 threads at once ÷ 1 thread"
            : "the machine: an arithmetic loop (multiply-adds on a 4 KB array, in L1), 2 threads at once ÷ 1 thread",
        model: "-",
        unit: "ratio",
        widerSide: `JavaScript, 1 thread ${p.one.toFixed(2)} ${p.unit}; 2 threads ${p.two.toFixed(2)} ${p.unit} in all`,
        wider: round(p.two / p.one),
        widerRounds: [],
        pytorchSide: "n/a",
        pytorch: null,
        ratio: null,
        target: "",
        load: `Wider ${load}`,
        note: `each thread runs ${config.machineProbeMs} ms; 2.00x: the second core adds its full rate; 1.00x: the two threads share one rate`,
      });
    }
    return { cores, rows, leak };
  } finally {
    tf.dispose(data.flatMap((d) => [d.x, d.y]));
    tf.dispose(halves.flatMap((d) => [d.x, d.y]));
  }
};
