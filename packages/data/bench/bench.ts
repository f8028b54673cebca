/**
 * @wider/data benchmark (run with `pnpm bench` in this package).
 *
 * 1. Load: time to read all 60,000 Fashion-MNIST training images and labels from the
 *    gzipped IDX files (target < 2 s), and the whole `loadDataset("fashion-mnist")`.
 * 2. Batching overhead: the tensor stage (plan + `toBatchTensors` + dispose) over batches
 *    of 128, against a forward pass of an MLP 784-512-256-10 (tfjs cpu backend) over the
 *    same batches, in the same process (target < 5 %). The cpu backend is slow, so both
 *    run over the first BATCHES batches of the epoch; the batching stage alone is also
 *    timed over the full epoch.
 */
import * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/lib/Either.js";
import { type BatchPlan, planBatches } from "../src/batchPlan.js";
import { toBatchTensors } from "../src/batchTensors.js";
import { readIdxSplit } from "../src/idx.js";
import { loadDataset } from "../src/loadDataset.js";

const DIR = "/usr/share/datasets/fashion-mnist";
const BATCH = 128;
const BATCHES = Number(process.env.WIDER_BENCH_BATCHES ?? 20);
const REPEATS = 3;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};
const ms = (x: number): string => `${x.toFixed(1)} ms`;

const main = async (): Promise<void> => {
  await tf.setBackend("cpu");
  await tf.ready();
  console.log(`node ${process.version}, tfjs ${tf.version.tfjs}, backend ${tf.getBackend()}`);

  // --- 1. load ---
  const loadTimes: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    const t0 = performance.now();
    const split = await readIdxSplit(
      `${DIR}/train-images-idx3-ubyte.gz`,
      `${DIR}/train-labels-idx1-ubyte.gz`,
      10,
    );
    loadTimes.push(performance.now() - t0);
    if (E.isLeft(split)) throw new Error(split.left.message);
    if (split.right.count !== 60000) throw new Error(`expected 60000, got ${split.right.count}`);
  }
  console.log(
    `load 60000 Fashion-MNIST train images+labels (gz): median ${ms(median(loadTimes))}, ` +
      `min ${ms(Math.min(...loadTimes))} over ${REPEATS} (target < 2000 ms)`,
  );
  const t0 = performance.now();
  const loaded = await loadDataset("fashion-mnist");
  const fullLoad = performance.now() - t0;
  if (E.isLeft(loaded)) throw new Error(loaded.left.message);
  const ds = loaded.right;
  console.log(`loadDataset("fashion-mnist") (train + test + stats): ${ms(fullLoad)}`);

  // --- 2. batching vs forward pass ---
  const model = tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [28, 28, 1] }),
      tf.layers.dense({ units: 512, activation: "relu" }),
      tf.layers.dense({ units: 256, activation: "relu" }),
      tf.layers.dense({ units: 10, activation: "softmax" }),
    ],
  });
  const options = { normalize: ds.stats, oneHot: true } as const;
  const epochPlan = planBatches({ count: ds.train.count, batchSize: BATCH, seed: 0 });
  const plan = epochPlan.slice(0, BATCHES);

  const batchingOnly = (p: BatchPlan): number => {
    const start = performance.now();
    for (const indices of p) {
      const { xs, ys } = toBatchTensors(ds.train, indices, options);
      xs.dispose();
      ys.dispose();
    }
    return performance.now() - start;
  };
  const forwardOnly = (): number => {
    const prebuilt = plan.map((indices) => toBatchTensors(ds.train, indices, options));
    const start = performance.now();
    for (const { xs } of prebuilt) {
      const y = model.predict(xs) as tf.Tensor;
      y.dataSync();
      y.dispose();
    }
    const elapsed = performance.now() - start;
    for (const { xs, ys } of prebuilt) {
      xs.dispose();
      ys.dispose();
    }
    return elapsed;
  };

  // warm-up (kernel setup, JIT)
  batchingOnly(plan.slice(0, 5));
  for (let i = 0; i < 3; i++)
    tf.tidy(() => (model.predict(tf.zeros([BATCH, 28, 28, 1])) as tf.Tensor).dataSync());

  const before = tf.memory().numTensors;
  const batching: number[] = [];
  const forward: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    batching.push(batchingOnly(plan));
    forward.push(forwardOnly());
  }
  const epochBatching = batchingOnly(epochPlan);
  const leaked = tf.memory().numTensors - before;

  const b = median(batching);
  const f = median(forward);
  console.log(
    `batching ${plan.length} batches of ${BATCH} (toBatchTensors + dispose): median ${ms(b)} ` +
      `(${ms(b / plan.length)} per batch)`,
  );
  console.log(
    `MLP 784-512-256-10 forward over the same ${plan.length} batches (cpu): median ${ms(f)} ` +
      `(${ms(f / plan.length)} per batch)`,
  );
  console.log(
    `batching overhead: ${((100 * b) / f).toFixed(2)} % of the forward pass (target < 5 %)`,
  );
  console.log(
    `batching a full epoch (${epochPlan.length} batches, ${ds.train.count} images): ${ms(epochBatching)}`,
  );
  console.log(`tensors leaked over the bench: ${leaked}`);
  model.dispose();
};

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
