/**
 * Training samples/s of an MLP (784-512-256-10) and a CNN (conv32-pool-conv64-pool-dense128-
 * dense10, 28x28x1), batch 128, SGD, on TensorFlow.js `cpu` and `wasm` (with the
 * @wider/backend training kernels), against PyTorch 1.13 (2 threads) run in the same bench
 * from bench/torch_train.py. Prints ratios wasm/PyTorch. Not part of the tests.
 *
 * Usage: pnpm bench  (env BENCH_SECONDS per timed run, default 4; BENCH_ROUNDS, default 3)
 */
import { spawnSync } from "node:child_process";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { initWasmTraining } from "../src/index.js";

type Kind = "mlp" | "cnn";
const BATCH = 128;
const SECONDS = Number(process.env.BENCH_SECONDS ?? "4");
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? "3");
/** Debian's python3 with python3-torch; BENCH_PYTHON overrides it. */
const PYTHON = process.env.BENCH_PYTHON ?? "/usr/bin/python3";

function build(kind: Kind): tf.Sequential {
  if (kind === "mlp") {
    return tf.sequential({
      layers: [
        tf.layers.flatten({ inputShape: [28, 28, 1] }),
        tf.layers.dense({ units: 512, activation: "relu" }),
        tf.layers.dense({ units: 256, activation: "relu" }),
        tf.layers.dense({ units: 10 }),
      ],
    });
  }
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: "relu" }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: "relu" }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 128, activation: "relu" }),
      tf.layers.dense({ units: 10 }),
    ],
  });
}

/** Samples/s of SGD steps (softmax cross-entropy on logits) on the active backend. */
function measure(
  kind: Kind,
  seconds: number,
  maxSteps: number,
  batch = BATCH,
): { rate: number; steps: number } {
  const model = build(kind);
  const optimizer = tf.train.sgd(0.01);
  const x = tf.randomNormal([batch, 28, 28, 1]);
  const y = tf.oneHot(tf.randomUniform([batch], 0, 10, "int32"), 10);
  const step = () => {
    const loss = optimizer.minimize(
      () => tf.losses.softmaxCrossEntropy(y, model.apply(x) as tf.Tensor) as tf.Scalar,
      true,
    );
    loss?.dataSync();
    loss?.dispose();
  };
  // A single timed step (cpu CNN) is taken cold: a warm-up step would cost a minute.
  const warmup = maxSteps > 1 ? 2 : 0;
  for (let i = 0; i < warmup; i++) step();
  let steps = 0;
  const start = performance.now();
  while (steps < maxSteps && (performance.now() - start) / 1000 < seconds) {
    step();
    steps++;
  }
  const elapsed = (performance.now() - start) / 1000;
  tf.dispose([x, y]);
  model.dispose();
  optimizer.dispose();
  return { rate: (steps * batch) / elapsed, steps };
}

function torch(kind: Kind, threads = 2): number | string {
  const script = join(dirname(fileURLToPath(import.meta.url)), "torch_train.py");
  const run = spawnSync(PYTHON, [script, kind, String(SECONDS), String(BATCH), String(threads)], {
    encoding: "utf8",
    timeout: (SECONDS + 120) * 1000,
  });
  if (run.error !== undefined || run.status !== 0) {
    const why = run.error?.message ?? run.stderr.trim().split("\n").pop() ?? `exit ${run.status}`;
    return `PyTorch not available (${why})`;
  }
  const line = run.stdout.trim().split("\n").pop() ?? "";
  return (JSON.parse(line) as { samples_per_s: number }).samples_per_s;
}

const fmt = (n: number) => n.toFixed(n < 10 ? 2 : 0).padStart(8);

async function main(): Promise<void> {
  console.log(
    `@wider/backend bench: batch ${BATCH}, SGD, ${SECONDS}s per timed run, best of ${ROUNDS} rounds`,
  );
  console.log(
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")} (cores shared)`,
  );
  for (const kind of ["mlp", "cnn"] as const) {
    // PyTorch and wasm alternate for ROUNDS rounds and the best run of each is kept: the
    // cores are shared, and a round that coincides with other load says little.
    const ptRuns: number[] = [];
    const pt1Runs: number[] = [];
    const wasmRuns: number[] = [];
    let missing = "";
    for (let round = 0; round < ROUNDS; round++) {
      const pt = torch(kind);
      if (typeof pt === "number") ptRuns.push(pt);
      else missing = pt;
      const pt1 = typeof pt === "number" ? torch(kind, 1) : pt;
      if (typeof pt1 === "number") pt1Runs.push(pt1);
      await initWasmTraining();
      wasmRuns.push(measure(kind, SECONDS, 10_000).rate);
    }
    const pt = ptRuns.length > 0 ? Math.max(...ptRuns) : undefined;
    const wasm = Math.max(...wasmRuns);
    const runs = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(", ");
    if (pt !== undefined) {
      console.log(`${kind}  pytorch  ${fmt(pt)} samples/s (2 threads, best of ${runs(ptRuns)})`);
    } else console.log(`${kind}  pytorch  ${missing}`);
    const pt1 = pt1Runs.length > 0 ? Math.max(...pt1Runs) : undefined;
    const ratio1 = pt1 !== undefined ? `  wasm/PyTorch-1-thread ${(wasm / pt1).toFixed(2)}x` : "";
    if (pt1 !== undefined) {
      const note = `1 thread, context only, best of ${runs(pt1Runs)}`;
      console.log(`${kind}  pytorch1 ${fmt(pt1)} samples/s (${note})${ratio1}`);
    }
    const ratio = pt !== undefined ? `  wasm/PyTorch ${(wasm / pt).toFixed(2)}x` : "";
    console.log(`${kind}  wasm     ${fmt(wasm)} samples/s (best of ${runs(wasmRuns)})${ratio}`);
    await tf.setBackend("cpu");
    // The cpu backend trains the CNN at a few samples/s: one step of batch 128 takes minutes on
    // a loaded machine, so time a single cold step of batch 16 (its cost is linear in batch).
    const cpuBatch = kind === "cnn" ? 16 : BATCH;
    const cpu = measure(kind, SECONDS, kind === "cnn" ? 1 : 10_000, cpuBatch);
    const cpuRatio = pt !== undefined ? `  cpu/PyTorch ${(cpu.rate / pt).toFixed(3)}x` : "";
    const cpuNote = `${cpu.steps} steps, batch ${cpuBatch}`;
    console.log(`${kind}  cpu      ${fmt(cpu.rate)} samples/s (${cpuNote})${cpuRatio}`);
  }
  console.log(
    `load average at end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
}

await main();
