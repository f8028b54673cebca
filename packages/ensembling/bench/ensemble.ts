// Streaming ensemble vs the all-in-memory baseline (every member's probabilities kept, then
// stacked and averaged), same members, same process. Reports wall time and the peak tensor
// bytes observed while predicting, and their ratios. Run: pnpm bench (in packages/ensembling)
import * as tf from "@tensorflow/tfjs";
import { orThrow } from "@wider/errors";
import { axpy, disposeWeights, fromModel, randomNormalLike } from "@wider/weights";
import { ensembleProbabilities, memberProbabilities } from "../src/index.js";

const MEMBERS = 12;
const SAMPLES = 4000;
const FEATURES = 32;
const CLASSES = 10;

await tf.setBackend("cpu");
const model = tf.sequential({
  layers: [
    tf.layers.dense({ name: "h", inputShape: [FEATURES], units: 64, activation: "relu" }),
    tf.layers.dense({ name: "o", units: CLASSES, activation: "softmax" }),
  ],
});
const x = tf.randomNormal([SAMPLES, FEATURES], 0, 1, "float32", 1);
const base = fromModel(model, { include: "all" });
const members = Array.from({ length: MEMBERS }, (_, i) => {
  const d = randomNormalLike(base, i + 1);
  const w = axpy(0.05, d, base);
  disposeWeights(d);
  return { kind: "memory" as const, step: i, weights: w };
});

// Peak tensor bytes, sampled on every predict call (model.predict is patched to sample).
let peak = 0;
const predict = model.predict.bind(model);
model.predict = (...args: Parameters<typeof predict>) => {
  const out = predict(...args);
  peak = Math.max(peak, tf.memory().numBytes);
  return out;
};

const measure = async (
  f: () => Promise<tf.TensorContainer>,
): Promise<{ ms: number; peakExtraBytes: number }> => {
  const start0 = tf.memory().numBytes;
  peak = start0;
  const t0 = performance.now();
  const out = await f();
  const ms = performance.now() - t0;
  peak = Math.max(peak, tf.memory().numBytes);
  tf.dispose(out);
  return { ms, peakExtraBytes: peak - start0 };
};

const streaming = () =>
  ensembleProbabilities(model, members, { x }, { batchSize: 1000 }).then((r) => orThrow(r).x);
const allInMemory = async () => {
  const all = orThrow(await memberProbabilities(model, members, { x }, { batchSize: 1000 })).x;
  const mean = tf.tidy(() => tf.mean(tf.stack(all), 0));
  peak = Math.max(peak, tf.memory().numBytes);
  tf.dispose(all);
  return mean;
};

await measure(streaming); // warm-up
await measure(allInMemory);
const rounds = 3;
const s: Array<{ ms: number; peakExtraBytes: number }> = [];
const a: Array<{ ms: number; peakExtraBytes: number }> = [];
for (let i = 0; i < rounds; i++) {
  s.push(await measure(streaming));
  a.push(await measure(allInMemory));
}
const median = (xs: readonly number[]): number =>
  [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)] ?? Number.NaN;
const sMs = median(s.map((r) => r.ms));
const aMs = median(a.map((r) => r.ms));
const sPeak = Math.max(...s.map((r) => r.peakExtraBytes));
const aPeak = Math.max(...a.map((r) => r.peakExtraBytes));
console.log(
  `ensemble bench (${MEMBERS} members, ${SAMPLES}x${CLASSES} probabilities, backend ${tf.getBackend()}, median of ${rounds})`,
);
console.log(`streaming:     ${sMs.toFixed(1)} ms, peak extra tensor bytes ${sPeak}`);
console.log(`all-in-memory: ${aMs.toFixed(1)} ms, peak extra tensor bytes ${aPeak}`);
console.log(
  `ratio streaming/all-in-memory: time ${(sMs / aMs).toFixed(3)}, peak bytes ${(sPeak / aPeak).toFixed(3)}`,
);
for (const m of members) disposeWeights(m.weights);
disposeWeights(base);
x.dispose();
