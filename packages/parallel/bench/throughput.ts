/**
 * Training throughput with data-parallel replicas: an MLP 784-512-256-10 and the CNN
 * conv32-pool-conv64-pool-dense128-dense10 (28x28x1, batch 128, SGD momentum 0.9, softmax
 * cross-entropy), on `wasm` replicas (with @wider/backend's kernels) with 1 and 2 workers, and
 * the same steps single-threaded in this process (`runSteps`, no worker) as the baseline. The
 * configurations alternate for `BENCH_ROUNDS` rounds of `BENCH_STEPS` steps each and the best
 * round of each is reported (the cores are shared). Then a leak check: `BENCH_LEAK_STEPS`
 * (default 1,000) MLP steps on 2 workers, with the workers' `numTensors` and the main process's
 * heap before and after. Not part of the tests.
 *
 * Usage: pnpm --filter @wider/parallel bench   (env BENCH_ROUNDS 3, BENCH_STEPS 12, BENCH_LEAK_STEPS 1000, BENCH_KINDS mlp,cnn)
 */
import { availableParallelism, loadavg } from "node:os";
import * as tf from "@tensorflow/tfjs";
import { initWasmTraining } from "@wider/backend";
import { buildModel, type ModelSpec } from "@wider/models";
import { constant } from "@wider/schedules";
import {
  type Batches,
  disposeOptState,
  initLoop,
  type RunStepsOptions,
  runSteps,
  sgd,
  softmaxCrossEntropy,
} from "@wider/training";
import { type ParallelRunner, parallelRunner } from "../src/index.js";
import { nodeTransport } from "../src/node.js";

const BATCH = 128;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? "3");
const STEPS = Number(process.env.BENCH_STEPS ?? "12");
const LEAK_STEPS = Number(process.env.BENCH_LEAK_STEPS ?? "1000");
const KINDS = (process.env.BENCH_KINDS ?? "mlp,cnn").split(",");

const specs: Record<string, ModelSpec> = {
  mlp: { kind: "mlp", hidden: [512, 256], inputShape: [28, 28, 1], seed: 1 },
  cnn: { kind: "cnn", filters: [32, 64], dense: 128, inputShape: [28, 28, 1], seed: 1 },
};

const build = (spec: ModelSpec) => {
  const m = buildModel(spec);
  if (m._tag === "Left") throw new Error(m.left.message);
  return m.right;
};

/** 8 distinct batches reused cyclically (data generation is not what is timed). */
let data: { x: tf.Tensor; y: tf.Tensor }[] = [];
const batches: Batches = (step) => data[step % data.length]!;

/** Samples/s of `steps` steps of `run` (one warm-up step first). */
const timed = async (
  spec: ModelSpec,
  run: (o: RunStepsOptions) => Promise<{ state: { opt: Parameters<typeof disposeOptState>[0] } }>,
  steps: number,
): Promise<number> => {
  const model = build(spec);
  const optimizer = sgd({ momentum: 0.9 });
  const base = {
    model,
    optimizer,
    loss: softmaxCrossEntropy(),
    schedule: constant(0.01),
    batches,
    disposeBatches: false,
  };
  const warm = await run({ ...base, state: initLoop(model, optimizer), to: 1 });
  const t0 = performance.now();
  const r = await run({ ...base, state: { step: 1, opt: warm.state.opt }, to: 1 + steps });
  const s = (performance.now() - t0) / 1000;
  disposeOptState(r.state.opt);
  model.dispose();
  return (steps * BATCH) / s;
};

const start = (spec: ModelSpec, workers: number) =>
  parallelRunner({
    transport: nodeTransport(),
    workers,
    backend: "wasm",
    model: { spec },
    optimizer: { kind: "sgd", momentum: 0.9 },
  });

const main = async () => {
  const la = () =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(" ");
  console.log(
    `@wider/parallel bench: wasm replicas, batch ${BATCH}, SGD momentum, ${STEPS} steps per round, best of ${ROUNDS} rounds, ${availableParallelism()} cores`,
  );
  console.log(`load average at start: ${la()}`);
  await initWasmTraining();
  data = Array.from({ length: 8 }, (_, i) => ({
    x: tf.randomNormal([BATCH, 28, 28, 1], 0, 1, "float32", i),
    y: tf.randomUniform([BATCH], 0, 10, "int32", 100 + i),
  }));
  for (const kind of KINDS) {
    const spec = specs[kind]!;
    const runners: Record<string, ParallelRunner> = {
      "1 worker": await start(spec, 1),
      "2 workers": await start(spec, 2),
    };
    const best: Record<string, number> = { "in-process": 0, "1 worker": 0, "2 workers": 0 };
    const all: Record<string, number[]> = { "in-process": [], "1 worker": [], "2 workers": [] };
    for (let r = 0; r < ROUNDS; r++) {
      for (const name of Object.keys(best)) {
        const runner = runners[name];
        const v = await timed(spec, runner === undefined ? runSteps : runner.runSteps, STEPS);
        all[name]!.push(v);
        best[name] = Math.max(best[name]!, v);
      }
    }
    for (const runner of Object.values(runners)) await runner.close();
    for (const [name, v] of Object.entries(best))
      console.log(
        `${kind} ${name.padEnd(10)} ${v.toFixed(0).padStart(6)} samples/s (best of ${all[name]!.map((x) => x.toFixed(0)).join(", ")})`,
      );
    console.log(
      `${kind} scaling: 2 workers / 1 worker ${(best["2 workers"]! / best["1 worker"]!).toFixed(2)}x; 2 workers / in-process ${(best["2 workers"]! / best["in-process"]!).toFixed(2)}x`,
    );
  }
  if (LEAK_STEPS > 0) {
    const spec = specs.mlp!;
    const runner = await start(spec, 2);
    await timed(spec, runner.runSteps, 10);
    const w0 = [...runner.workerTensors()];
    const h0 = process.memoryUsage().heapUsed;
    const t0 = tf.memory().numTensors;
    const sps = await timed(spec, runner.runSteps, LEAK_STEPS);
    const w1 = [...runner.workerTensors()];
    await runner.close();
    console.log(
      `leak check: ${LEAK_STEPS} MLP steps on 2 workers (${sps.toFixed(0)} samples/s): worker numTensors ${w0.join("/")} -> ${w1.join("/")}, main numTensors ${t0} -> ${tf.memory().numTensors}, main heap ${(h0 / 2 ** 20).toFixed(1)} -> ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(1)} MB`,
    );
  }
  console.log(`load average at end: ${la()}`);
  tf.dispose(data.flatMap((d) => [d.x, d.y]));
};

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
