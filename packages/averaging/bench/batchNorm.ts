/**
 * Cost of `updateBatchNorm` against one inference pass over the same data (the issue's target:
 * at most 1.2x), for a CNN with BatchNormalization after each convolution and the hidden dense
 * layer (28x28x1, 16 batches of 128), on the TensorFlow.js `wasm` backend (with the
 * @wider/backend kernels) and `cpu`. Also times, in the same process, the previous algorithm
 * (the original layer call plus a second `tf.moments` read back with `dataSync` per batch and
 * per layer) as the baseline, and a plain training-mode forward pass. The three are alternated
 * for `BENCH_ROUNDS` rounds and the best of each is reported, because the cores are shared.
 * Not part of the tests.
 *
 * Usage: pnpm bench batchNorm (in packages/averaging)   (env BENCH_ROUNDS, default 3; BENCH_BATCHES, default 16)
 */
import { loadavg } from "node:os";
import * as tf from "@tensorflow/tfjs";
import { initWasmTraining } from "@wider/backend";
import { batchNormLayers, updateBatchNorm } from "../src/index.js";

const BATCH = 128;
const BATCHES = Number(process.env.BENCH_BATCHES ?? "16");
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? "3");

/** conv32-bn-relu-pool-conv64-bn-relu-pool-dense128-bn-relu-dense10. */
const build = (): tf.Sequential =>
  tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, useBias: false }),
      tf.layers.batchNormalization(),
      tf.layers.reLU(),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 64, kernelSize: 3, useBias: false }),
      tf.layers.batchNormalization(),
      tf.layers.reLU(),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 128, useBias: false }),
      tf.layers.batchNormalization(),
      tf.layers.reLU(),
      tf.layers.dense({ units: 10 }),
    ],
  });

/** The algorithm before this change: original call, moments again, read back per batch. */
const perBatchRead = (model: tf.LayersModel, xs: readonly tf.Tensor[]): void => {
  const layers = batchNormLayers(model);
  const sums = layers.map(() => new Float64Array(256));
  const restore = layers.map((layer, i) => {
    const original = layer.call;
    layer.call = (inputs, kwargs) => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const axes = [...Array(x.rank - 1).keys()];
      const [m, v] = tf.tidy(() => {
        const r = tf.moments(x, axes);
        return [r.mean.dataSync(), r.variance.dataSync()];
      });
      const s = sums[i]!;
      for (let c = 0; c < m.length; c++) {
        s[c]! += m[c]!;
        s[128 + c]! += v[c]!;
      }
      return original.call(layer, inputs, kwargs);
    };
    return () => {
      delete (layer as { call?: unknown }).call;
    };
  });
  try {
    for (const x of xs) tf.tidy(() => void model.apply(x, { training: true }));
  } finally {
    for (const r of restore) r();
  }
};

const forward = (model: tf.LayersModel, xs: readonly tf.Tensor[], training: boolean): void => {
  for (const x of xs) {
    tf.tidy(() => {
      const out = model.apply(x, { training }) as tf.Tensor;
      out.slice([0, 0], [1, 1]).dataSync(); // one small read per batch, as a predict loop would
    });
  }
};

const ms = async (f: () => unknown): Promise<number> => {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
};

const bench = async (backend: string): Promise<void> => {
  const model = build();
  const xs = Array.from({ length: BATCHES }, (_, i) =>
    tf.randomNormal([BATCH, 28, 28, 1], 0, 1, "float32", i),
  );
  const best = { inference: Infinity, training: Infinity, update: Infinity, old: Infinity };
  forward(model, xs.slice(0, 2), false); // warm-up
  await updateBatchNorm(model, xs.slice(0, 2));
  const before = tf.memory().numTensors;
  for (let r = 0; r < ROUNDS; r++) {
    best.inference = Math.min(best.inference, await ms(() => forward(model, xs, false)));
    best.update = Math.min(best.update, await ms(() => updateBatchNorm(model, xs)));
    best.old = Math.min(best.old, await ms(() => perBatchRead(model, xs)));
    best.training = Math.min(best.training, await ms(() => forward(model, xs, true)));
  }
  const leaked = tf.memory().numTensors - before;
  const f = (v: number) => `${v.toFixed(0)} ms (${(v / best.inference).toFixed(2)}x inference)`;
  console.log(
    `${backend.padEnd(4)} inference ${best.inference.toFixed(0)} ms | updateBatchNorm ${f(best.update)}` +
      ` | previous per-batch read ${f(best.old)} | training-mode forward ${f(best.training)}` +
      `${leaked === 0 ? "" : ` | LEAKED ${leaked} tensors`}`,
  );
  tf.dispose(xs);
  model.dispose();
};

const main = async () => {
  console.log(
    `@wider/averaging bench: updateBatchNorm vs one inference pass, ${BATCHES} batches of ${BATCH}, best of ${ROUNDS} rounds`,
  );
  console.log(
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  await initWasmTraining();
  await bench("wasm");
  if (process.env.BENCH_CPU === "1") {
    await tf.setBackend("cpu");
    await bench("cpu");
  }
  console.log(
    `load average at end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
};

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
