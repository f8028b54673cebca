// Smoke run of every published package as a user installs it (packed tarballs + a given tfjs from
// the npm registry). Plain ESM JavaScript, run with plain `node` in the install folder; prints one
// JSON line { tfjs, checks: { name: "ok" } } and exits 1 on the first failure (message on stderr).
// @wider/distributed is only loaded (its queue needs Redis); @wider/backend is not installed (it
// pins tfjs 4.22.0 exactly).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { averagingCallback, disposeState, swa, swaCallback, when } from "@wider/averaging";
import { planBatches, toBatchTensors } from "@wider/data";
import * as distributed from "@wider/distributed";
import { collectAt, disposeSnapshots, ensembleProbabilities } from "@wider/ensembling";
import {
  disposePlan,
  evaluateClassifier,
  evaluatePlan,
  linspace,
  randomDirection,
  rayFrom,
} from "@wider/geometry";
import { buildModel } from "@wider/models";
import {
  constant,
  cosine,
  cyclical,
  isCycleMidpoint,
  join as joinSchedules,
} from "@wider/schedules";
import { swag, swagCallback } from "@wider/swag";
import { disposeOptState, initLoop, sgd, softmaxCrossEntropy, trainStep } from "@wider/training";
import { disposeWeights, fromModel } from "@wider/weights";
import { loadWeights, saveWeights } from "@wider/weights/node";

const checks = {};
const check = async (name, fn) => {
  try {
    await fn();
    checks[name] = "ok";
  } catch (e) {
    process.stderr.write(
      `smoke check "${name}" failed on tfjs ${tf.version.tfjs}:\n${e?.stack ?? e}\n`,
    );
    process.exit(1);
  }
};
const assert = (cond, what) => {
  if (!cond) throw new Error(`assertion failed: ${what}`);
};
const right = (e, what) => {
  if (e._tag !== "Right") throw new Error(`${what}: ${e.left?.message ?? JSON.stringify(e.left)}`);
  return e.right;
};

await tf.setBackend("cpu");
const start = tf.memory().numTensors;
const mlp = () =>
  tf.sequential({
    layers: [
      tf.layers.dense({ units: 8, inputShape: [4], activation: "relu", name: "hidden" }),
      tf.layers.batchNormalization({ name: "bn" }),
      tf.layers.dense({ units: 3, activation: "softmax", name: "out" }),
    ],
  });
const x = tf.randomNormal([64, 4], 0, 1, "float32", 1);
const labels = tf.tidy(() => tf.argMax(x.slice([0, 0], [64, 3]), 1));
const y = tf.tidy(() => tf.cast(labels, "float32"));

await check("schedules", () => {
  const lr = joinSchedules([constant(0.1), cyclical({ high: 0.1, low: 0.01, cycle: 4 })], [8]);
  assert(lr(0) === 0.1 && Math.abs(lr(11) - 0.01) < 1e-12, `join/cyclical gave ${lr(11)}`);
  assert(Math.abs(cosine({ from: 1, to: 0, steps: 10 })(10)) < 1e-12, "cosine end");
});

await check("averaging: swa update", () => {
  const model = mlp();
  const averager = swa();
  let state = averager.init();
  for (let i = 0; i < 3; i++) {
    const w = fromModel(model, { include: "all" });
    state = averager.update(state, w);
    disposeWeights(w);
  }
  assert(state.n === 3, "n = 3");
  disposeState(state);
  model.dispose();
});

await check("averaging + swag: model.fit callbacks", async () => {
  const model = mlp();
  model.compile({ optimizer: tf.train.sgd(0.05), loss: "sparseCategoricalCrossentropy" });
  const swaCb = swaCallback({ schedule: constant(0.05), start: 2, collect: when() });
  const avg = averagingCallback({ averager: swa(), policy: when({ start: 1 }) });
  const swagCb = swagCallback({ swag: swag({ maxRank: 2 }), policy: when({ start: 1 }) });
  await model.fit(x, y, { epochs: 2, batchSize: 16, callbacks: [swaCb, avg, swagCb], verbose: 0 });
  assert(swaCb.step === 8 && swaCb.collections.length === 6, `swaCallback step ${swaCb.step}`);
  assert(avg.state.n === 7, `averagingCallback n ${avg.state.n}`);
  assert(swagCb.state.n === 7, `swagCallback n ${swagCb.state.n}`);
  swaCb.dispose();
  avg.dispose();
  swagCb.dispose();
  model.optimizer.dispose();
  model.dispose();
});

await check("weights: save and load", async () => {
  const model = mlp();
  const w = fromModel(model, { include: "all" });
  const dir = mkdtempSync(join(tmpdir(), "wider-smoke-"));
  try {
    right(await saveWeights(join(dir, "w"), w, { epoch: 1 }), "saveWeights");
    const loaded = right(await loadWeights(join(dir, "w")), "loadWeights");
    const same = Object.keys(w).every((k) =>
      tf.tidy(() => tf.equal(w[k], loaded.weights[k]).all().dataSync()[0] === 1),
    );
    assert(same && loaded.metadata.epoch === 1, "loaded weights equal the saved ones");
    disposeWeights(loaded.weights);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  disposeWeights(w);
  model.dispose();
});

await check("ensembling: FGE snapshots and ensemble", async () => {
  const model = mlp();
  const optimizer = tf.train.sgd(0.05);
  model.compile({ optimizer, loss: "sparseCategoricalCrossentropy" });
  const collector = collectAt(isCycleMidpoint(2), { maxCount: 3, store: "memory" });
  let state = collector.init();
  for (let step = 0; step < 8; step++) {
    const [xb, yb] = [x.slice(step * 8, 8), y.slice(step * 8, 8)];
    await model.trainOnBatch(xb, yb);
    tf.dispose([xb, yb]);
    const w = fromModel(model, { include: "all" });
    state = right(await collector.update(state, step, w), "collector.update");
    disposeWeights(w);
  }
  const { test } = right(await ensembleProbabilities(model, state, { test: x }), "ensemble");
  assert(test.shape[0] === 64 && test.shape[1] === 3, "ensemble shape");
  test.dispose();
  await disposeSnapshots(state);
  optimizer.dispose();
  model.dispose();
});

await check("geometry: a ray", async () => {
  const model = mlp();
  const w = fromModel(model, { include: "all" });
  const d = randomDirection(w, 0);
  const plan = right(rayFrom(w, d, linspace(-1, 1, 3)), "rayFrom");
  const evaluate = evaluateClassifier({ train: { x, y: labels } });
  const res = right(await evaluatePlan(plan, { model, evaluate }), "evaluatePlan");
  assert(JSON.stringify(res).includes("trainLoss"), "ray results hold trainLoss");
  disposePlan(plan);
  disposeWeights(d);
  disposeWeights(w);
  model.dispose();
});

await check("training: steps", () => {
  const model = mlp();
  const optimizer = sgd({ momentum: 0.9 });
  const step = trainStep(model, softmaxCrossEntropy(), optimizer);
  let state = initLoop(model, optimizer).opt;
  let first;
  let last;
  for (let i = 0; i < 10; i++) {
    const r = step(state, x, labels, 0.1);
    state = r.state;
    first ??= r.loss;
    last = r.loss;
  }
  assert(Number.isFinite(last) && last < first, `loss ${first} -> ${last}`);
  disposeOptState(state);
  model.dispose();
});

await check("models: build", () => {
  const model = right(
    buildModel({ kind: "mlp", hidden: [8], inputShape: [2, 2, 1], classes: 3 }),
    "buildModel",
  );
  const out = tf.tidy(() => model.predict(x.reshape([64, 2, 2, 1])).shape);
  assert(out[0] === 64 && out[1] === 3, `output shape ${out}`);
  model.dispose();
});

await check("data: batches", () => {
  const split = {
    images: Uint8Array.from({ length: 10 * 4 }, (_, i) => i % 256),
    labels: Uint8Array.from({ length: 10 }, (_, i) => i % 3),
    count: 10,
    imageShape: [2, 2, 1],
    numClasses: 3,
  };
  const plan = planBatches({ count: 10, batchSize: 4, seed: 1 });
  const batch = toBatchTensors(split, plan[0], {});
  assert(batch.xs.shape.join() === "4,2,2,1" && batch.ys.shape.join() === "4,3", "batch shapes");
  tf.dispose([batch.xs, batch.ys]);
});

await check("distributed: loads", () =>
  assert(Object.keys(distributed).length > 0, "@wider/distributed has exports"),
);

tf.dispose([x, y, labels]);
await check("no tensor leak", () =>
  assert(tf.memory().numTensors === start, `${tf.memory().numTensors - start} tensors leaked`),
);
process.stdout.write(`${JSON.stringify({ tfjs: tf.version.tfjs, checks })}\n`);
