/**
 * Benchmark: the cost of evaluating a plan over plain evaluation of a fixed model (the overhead of
 * making each point's weights, assigning them and bookkeeping), and of exact versus
 * finite-difference Hessian-vector products. Ratios against baselines run in this process.
 *
 *   pnpm bench (in packages/geometry)
 */

import * as tf from "@tensorflow/tfjs";
import { orThrow } from "@wider/errors";
import { disposeWeights, fromModel, type Weights } from "@wider/weights";
import {
  disposePlan,
  evaluatePlan,
  exactHvp,
  finiteDifferenceHvp,
  lossAndError,
  lossGradient,
  planeThrough,
  randomDirection,
} from "../src/index.js";

const mlp = (seed: number, activation: "relu" | "softmax" = "softmax") => {
  const m = tf.sequential();
  const init = (s: number) => tf.initializers.glorotUniform({ seed: s });
  m.add(
    tf.layers.dense({
      name: "h1",
      units: 64,
      activation: "relu",
      inputShape: [16],
      kernelInitializer: init(seed),
    }),
  );
  m.add(
    tf.layers.dense({
      name: "h2",
      units: 64,
      activation: "relu",
      kernelInitializer: init(seed + 1),
    }),
  );
  m.add(
    tf.layers.dense({
      name: "out",
      units: 4,
      activation: activation === "softmax" ? "softmax" : "linear",
      kernelInitializer: init(seed + 2),
    }),
  );
  return m;
};

const time = async (f: () => Promise<unknown> | unknown): Promise<number> => {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
};

const main = async () => {
  await tf.setBackend("cpu");
  const x = tf.randomNormal([1000, 16], 0, 1, "float32", 1);
  const y = tf.tensor1d(
    Array.from({ length: 1000 }, (_, i) => i % 4),
    "int32",
  );
  const models = [mlp(1), mlp(10), mlp(20)];
  const [w1, w2, w3] = models.map((m) => fromModel(m)) as [Weights, Weights, Weights];
  const model = models[0]!;
  const plan = orThrow(planeThrough(w1, w2, w3, { grid: 7 }));
  const n = plan.points.length;
  const evaluate = async (m: tf.LayersModel) => lossAndError(m, x, y, 500);
  await evaluate(model); // warm-up
  const base = await time(async () => {
    for (let i = 0; i < n; i++) await evaluate(model);
  });
  const full = await time(async () => orThrow(await evaluatePlan(plan, { model, evaluate })));
  console.log(
    `plane ${n} points: evaluatePlan ${full.toFixed(0)} ms vs ${n} plain evaluations ${base.toFixed(0)} ms -> ratio ${(full / base).toFixed(3)}`,
  );
  disposePlan(plan);

  const reg = mlp(5, "relu");
  const target = tf.randomNormal([256, 4], 0, 1, "float32", 2);
  const xs = tf.slice(x, 0, 256);
  const at = fromModel(reg);
  const vars = reg.trainableWeights.map((lw) => lw.read());
  const keys = reg.trainableWeights.map((lw) => lw.originalName);
  const live: Weights = Object.fromEntries(keys.map((k, i) => [k, vars[i]!]));
  const loss = () =>
    tf.tidy(() => tf.mean(tf.square(tf.sub(reg.apply(xs) as tf.Tensor, target))) as tf.Scalar);
  const v = randomDirection(at, 3);
  const reps = 20;
  const exact = exactHvp(loss, live);
  const fd = finiteDifferenceHvp((w) => {
    const saved = vars.map((t) => t.clone());
    keys.forEach((k, i) => {
      (vars[i] as tf.Variable).assign(w[k]!);
    });
    const g = lossGradient(loss, live);
    saved.forEach((s, i) => {
      (vars[i] as tf.Variable).assign(s);
      s.dispose();
    });
    return g;
  }, live);
  disposeWeights(exact(v));
  disposeWeights(fd(v));
  const tExact = await time(() => {
    for (let i = 0; i < reps; i++) disposeWeights(exact(v));
  });
  const tFd = await time(() => {
    for (let i = 0; i < reps; i++) disposeWeights(fd(v));
  });
  const tGrad = await time(() => {
    for (let i = 0; i < reps; i++) disposeWeights(lossGradient(loss, live));
  });
  console.log(
    `HVP (${keys.length} tensors, 256 examples): exact ${(tExact / reps).toFixed(1)} ms, finite-difference ${(tFd / reps).toFixed(1)} ms, one gradient ${(tGrad / reps).toFixed(1)} ms -> exact/gradient ${(tExact / tGrad).toFixed(2)}, fd/gradient ${(tFd / tGrad).toFixed(2)}`,
  );
  for (const w of [w1, w2, w3, at, v]) disposeWeights(w);
  tf.dispose([x, y, target, xs]);
  for (const m of [...models, reg]) m.dispose();
};

await main();
