/**
 * One CNN training step (conv32-pool-conv64-pool-dense128-dense10, 28x28x1, batch 128, SGD,
 * softmax cross-entropy on logits), or with `MODEL=mlp` the MLP's (784-512-256-10, relu), at batch
 * `BATCH` (default 128), on `wasm` with the training kernels, profiled kernel by kernel
 * with `tf.profile`: total milliseconds per kernel name over `PROFILE_STEPS` steps (default 5,
 * after 3 warm-up steps), sorted, as a Markdown table; then the median wall time of
 * `TIME_STEPS` (default 20) unprofiled steps, the figure for a whole step. Not part of the tests.
 * `MATMUL=xnnpack` puts back the XNNPACK `BatchMatMul` and `_FusedMatMul` (the kernels before the
 * direct matmul module, still the fallback) for a before/after comparison.
 *
 * Usage: pnpm --filter @wider/backend bench profileStep (MODEL=mlp BATCH=64 ...)
 */
import { loadavg } from "node:os";
import * as tf from "@tensorflow/tfjs";
import { initWasmTraining } from "../src/index.js";
import { untransposedFusedMatMul } from "../src/transposedMatMul.js";
import { xnnBatchMatMul } from "../src/xnnMatMul.js";

const STEPS = Number(process.env.PROFILE_STEPS ?? "5");
const TIME_STEPS = Number(process.env.TIME_STEPS ?? "20");
const MODEL = process.env.MODEL ?? "cnn";
const BATCH = Number(process.env.BATCH ?? "128");
const MATMUL = process.env.MATMUL ?? "direct";

const cnn = () =>
  tf.sequential({
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

const mlp = () =>
  tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [28, 28, 1] }),
      tf.layers.dense({ units: 512, activation: "relu" }),
      tf.layers.dense({ units: 256, activation: "relu" }),
      tf.layers.dense({ units: 10 }),
    ],
  });

/** Replaces the wasm kernel `name` by `kernelFunc`, keeping its setup. */
const swapKernel = (name: string, kernelFunc: tf.KernelFunc) => {
  const config = tf.getKernel(name, "wasm");
  if (config === undefined) throw new Error(`no wasm kernel ${name}`);
  tf.unregisterKernel(name, "wasm");
  tf.registerKernel({ ...config, kernelFunc });
};

const main = async () => {
  await initWasmTraining();
  if (MATMUL === "xnnpack") {
    swapKernel("BatchMatMul", xnnBatchMatMul);
    swapKernel(
      "_FusedMatMul",
      untransposedFusedMatMul(() => undefined),
    );
  } else if (MATMUL !== "direct")
    throw new Error(`MATMUL must be direct or xnnpack, got ${MATMUL}`);
  if (MODEL !== "cnn" && MODEL !== "mlp") throw new Error(`MODEL must be cnn or mlp, got ${MODEL}`);
  const model = MODEL === "mlp" ? mlp() : cnn();
  const optimizer = tf.train.sgd(0.01);
  const x = tf.randomNormal([BATCH, 28, 28, 1], 0, 1, "float32", 1);
  const y = tf.oneHot(tf.randomUniform([BATCH], 0, 10, "int32", 2), 10);
  const step = () => {
    const loss = optimizer.minimize(
      () => tf.losses.softmaxCrossEntropy(y, model.apply(x) as tf.Tensor) as tf.Scalar,
      true,
    );
    loss?.dataSync();
    loss?.dispose();
  };
  for (let i = 0; i < 3; i++) step();
  const byKernel = new Map<string, { ms: number; calls: number }>();
  let wall = 0;
  for (let i = 0; i < STEPS; i++) {
    const t0 = performance.now();
    const info = await tf.profile(step);
    wall += performance.now() - t0;
    for (const k of info.kernels) {
      const ms = await k.kernelTimeMs;
      const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
      e.ms += typeof ms === "number" ? ms : 0;
      e.calls += 1;
      byKernel.set(k.name, e);
    }
  }
  const total = [...byKernel.values()].reduce((a, e) => a + e.ms, 0);
  const rows = [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms);
  console.log(
    `load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(
        " ",
      )}; ${MODEL} batch ${BATCH}, matmul ${MATMUL}; ${STEPS} profiled steps, ${(wall / STEPS).toFixed(1)} ms per step (profiled), kernels ${(total / STEPS).toFixed(1)} ms per step\n`,
  );
  console.log("| Kernel | ms per step | share | calls per step |");
  console.log("| --- | ---: | ---: | ---: |");
  for (const [name, e] of rows)
    console.log(
      `| ${name} | ${(e.ms / STEPS).toFixed(2)} | ${((100 * e.ms) / total).toFixed(1)} % | ${e.calls / STEPS} |`,
    );
  const times: number[] = [];
  for (let i = 0; i < TIME_STEPS; i++) {
    const t0 = performance.now();
    step();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)] ?? Number.NaN;
  console.log(
    `\nunprofiled: median ${median.toFixed(1)} ms per step over ${TIME_STEPS} steps (min ${(times[0] ?? Number.NaN).toFixed(1)}), ${((BATCH * 1000) / median).toFixed(0)} samples/s; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  tf.dispose([x, y]);
  model.dispose();
};

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
