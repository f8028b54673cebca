/**
 * Cost of `updateBatchNorm` against one inference pass over the same data (the target:
 * at most 1.2x), the comparison of the root `pnpm bench`'s data-parallel section: the CNN
 * conv32-BN-relu-pool-conv64-BN-relu-pool-dense128-dense10 of `@wider/models` (`cnn-bn`) on
 * `BENCH_SAMPLES` random 28x28x1 samples in batches of 128, on the TensorFlow.js `wasm` backend
 * with the @wider/backend kernels. Times, alternated in each round (order rotated) so that the
 * shared machine's load hits all alike, and reports the medians:
 * - one inference pass (`training: false`, a one-value read per batch, as a predict loop);
 * - `updateBatchNorm` as shipped: with @wider/backend's `WiderMoments` kernel;
 * - `updateBatchNorm` with that kernel unregistered: the tensor path (`Sum`,
 *   `SquaredDifference`, `Sum`), what runs without @wider/backend and what ran before it;
 * - a plain training-mode forward pass (tfjs-layers' own batch statistics).
 * With BENCH_PROFILE=1 it also prints the per-kernel times (`tf.profile`) of one inference pass
 * and one `updateBatchNorm` pass. Not part of the tests.
 *
 * Usage: pnpm bench batchNorm (in packages/averaging)
 *   env BENCH_ROUNDS (default 5), BENCH_SAMPLES (default 10000), BENCH_PROFILE (default 0)
 */
import { loadavg } from "node:os";
import * as tf from "@tensorflow/tfjs";
import { initWasmTraining } from "@wider/backend";
import { momentsKernelName, updateBatchNorm } from "../src/index.js";

const BATCH = 128;
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? "10000");
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? "5");

/** `@wider/models`' `cnn({ batchNorm: true })`: the layers of the root bench's `cnn-bn`. */
const build = (): tf.Sequential => {
  const he = (seed: number) => tf.initializers.heNormal({ seed });
  return tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [28, 28, 1],
        filters: 32,
        kernelSize: 3,
        kernelInitializer: he(1),
      }),
      tf.layers.batchNormalization({ momentum: 0.9 }),
      tf.layers.activation({ activation: "relu" }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 64, kernelSize: 3, kernelInitializer: he(2) }),
      tf.layers.batchNormalization({ momentum: 0.9 }),
      tf.layers.activation({ activation: "relu" }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 128, activation: "relu", kernelInitializer: he(3) }),
      tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
    ],
  });
};

/** The root bench's batches: `samples` samples, the last batch smaller, seeds 10, 11, ... */
const inputBatches = (samples: number): tf.Tensor4D[] => {
  const out: tf.Tensor4D[] = [];
  for (let s = 0, i = 0; s < samples; s += BATCH, i++)
    out.push(tf.randomNormal([Math.min(BATCH, samples - s), 28, 28, 1], 0, 1, "float32", 10 + i));
  return out;
};

/** One forward pass per batch with one small read, as a predict loop. */
const forward = (model: tf.LayersModel, xs: readonly tf.Tensor[], training: boolean): void => {
  for (const x of xs)
    tf.tidy(() => {
      const out = model.apply(x, { training }) as tf.Tensor;
      out.slice([0, 0], [1, 1]).dataSync();
    });
};

/** `updateBatchNorm` with the moments kernel unregistered for the call (the tensor path). */
const withoutKernel = async (model: tf.LayersModel, xs: readonly tf.Tensor[]): Promise<void> => {
  const config = tf.getKernel(momentsKernelName, "wasm");
  if (config === undefined) throw new Error(`${momentsKernelName} is not registered on wasm`);
  tf.unregisterKernel(momentsKernelName, "wasm");
  try {
    await updateBatchNorm(model, xs);
  } finally {
    tf.registerKernel(config);
  }
};

const ms = async (f: () => unknown): Promise<number> => {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
};

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const h = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
};

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

/** Per-kernel milliseconds of `f` (kernels only: the `*__op` wrappers are left out). */
const kernelTable = async (label: string, f: () => unknown): Promise<void> => {
  const p = await tf.profile(f as () => tf.TensorContainer);
  const rows = new Map<string, { calls: number; ms: number }>();
  for (const k of p.kernels) {
    if (k.name.endsWith("__op")) continue;
    const key = `${k.name} [${k.inputShapes[0]?.join(",") ?? ""}]`;
    const e = rows.get(key) ?? { calls: 0, ms: 0 };
    rows.set(key, { calls: e.calls + 1, ms: e.ms + Number(k.kernelTimeMs) });
  }
  const sorted = [...rows].sort((a, b) => b[1].ms - a[1].ms).filter(([, e]) => e.ms >= 0.5);
  const total = [...rows.values()].reduce((s, e) => s + e.ms, 0);
  console.log(`  ${label}: kernels ${total.toFixed(0)} ms`);
  for (const [key, e] of sorted)
    console.log(
      `    ${e.ms.toFixed(1).padStart(7)} ms ${String(e.calls).padStart(4)} calls  ${key}`,
    );
};

const main = async () => {
  await initWasmTraining();
  const model = build();
  const xs = inputBatches(SAMPLES);
  console.log(
    `@wider/averaging bench: updateBatchNorm vs one inference pass, cnn-bn, ${SAMPLES} samples in ${xs.length} batches of <= ${BATCH}, wasm + @wider/backend, median of ${ROUNDS} alternated rounds`,
  );
  console.log(`load average at start: ${load()}`);
  const variants: Record<string, () => Promise<unknown> | unknown> = {
    inference: () => forward(model, xs, false),
    "updateBatchNorm (WiderMoments)": () => updateBatchNorm(model, xs),
    "updateBatchNorm (tensor path)": () => withoutKernel(model, xs),
    "training-mode forward": () => forward(model, xs, true),
  };
  const names = Object.keys(variants);
  const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  // Warm-up: kernels compiled, weights uploaded.
  for (const n of names) await variants[n]!();
  const before = tf.memory().numTensors;
  for (let r = 0; r < ROUNDS; r++)
    for (let i = 0; i < names.length; i++) {
      const n = names[(i + r) % names.length]!;
      times[n]!.push(await ms(variants[n]!));
    }
  const leaked = tf.memory().numTensors - before;
  const inference = median(times.inference!);
  for (const n of names) {
    const m = median(times[n]!);
    console.log(
      `  ${n.padEnd(32)} ${m.toFixed(0).padStart(6)} ms  ${(m / inference).toFixed(2)}x inference  (rounds: ${times[n]!.map((t) => t.toFixed(0)).join(", ")})`,
    );
  }
  if (leaked !== 0) console.log(`  LEAKED ${leaked} tensors`);
  console.log(`load average at end: ${load()}`);
  if (process.env.BENCH_PROFILE === "1") {
    console.log("per-kernel times (tf.profile, one pass each):");
    await kernelTable("inference", variants.inference!);
    await kernelTable(
      "updateBatchNorm (WiderMoments)",
      variants["updateBatchNorm (WiderMoments)"]!,
    );
    await kernelTable("updateBatchNorm (tensor path)", variants["updateBatchNorm (tensor path)"]!);
  }
  tf.dispose(xs);
  model.dispose();
};

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
