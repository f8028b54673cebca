import * as tf from "@tensorflow/tfjs";
import { updateBatchNorm } from "@wider/averaging";
import { orThrow } from "@wider/errors";
import { assignToModel, disposeWeights, fromModel } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  collectAt,
  compareEnsembleToSwa,
  disposeSnapshots,
  ensembleProbabilities,
  type SnapshotState,
} from "../src/index.js";
import { blobs, CLASSES, FEATURES } from "./fixture.js";

const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor): number =>
  tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number);

/** dense "h" -> BatchNormalization "bn" -> relu -> dense "o" (softmax), explicit names. */
const bnModel = (seed: number): tf.LayersModel => {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({
        name: "h",
        inputShape: [FEATURES],
        units: 10,
        kernelInitializer: tf.initializers.glorotUniform({ seed }),
      }),
      tf.layers.batchNormalization({ name: "bn" }),
      tf.layers.activation({ name: "act", activation: "relu" }),
      tf.layers.dense({
        name: "o",
        units: CLASSES,
        activation: "softmax",
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
      }),
    ],
  });
  model.compile({ optimizer: tf.train.sgd(0.2), loss: "categoricalCrossentropy" });
  return model;
};

const train = blobs(160, 41);
const test = blobs(60, 42);
/** BN batches: [x, y] pairs of 40 rows, an array (re-iterable). */
const bnBatches: Array<[tf.Tensor, tf.Tensor]> = [0, 40, 80, 120].map((s) => [
  train.x.slice(s, 40),
  train.y.slice(s, 40),
]);
let model: tf.LayersModel;
let state: SnapshotState;

beforeAll(async () => {
  model = bnModel(8);
  const collector = collectAt((s) => s % 3 === 2, { maxCount: 3, store: "memory" });
  state = collector.init();
  for (let step = 0; step < 9; step++) {
    const start = (step * 20) % 160;
    const xb = train.x.slice(start, 20);
    const yb = train.y.slice(start, 20);
    await model.trainOnBatch(xb, yb);
    tf.dispose([xb, yb]);
    const w = fromModel(model, { include: "all" });
    state = orThrow(await collector.update(state, step, w));
    disposeWeights(w);
  }
});

afterAll(async () => {
  await disposeSnapshots(state);
  model.dispose();
  tf.dispose([train.x, train.y, test.x, test.y, ...bnBatches.flat()]);
});

describe("BatchNorm re-estimation per member", () => {
  it("matches a hand-rolled loop (assign, updateBatchNorm, predict, average) on another instance", async () => {
    expect(state.snapshots.map((s) => s.step)).toEqual([2, 5, 8]);
    const other = bnModel(100);
    const per: tf.Tensor[] = [];
    for (const s of state.snapshots) {
      if (s.kind !== "memory") throw new Error("memory snapshots expected");
      orThrow(assignToModel(other, s.weights));
      await updateBatchNorm(other, bnBatches);
      per.push(other.predict(test.x) as tf.Tensor);
    }
    const oracle = tf.tidy(() => tf.mean(tf.stack(per), 0));
    const ens = orThrow(
      await ensembleProbabilities(
        model,
        state,
        { test: test.x },
        { batchNorm: { batches: bnBatches } },
      ),
    );
    expect(maxAbsDiff(ens.test, oracle)).toBeLessThan(1e-6);
    // and re-estimation matters here: without it the ensemble differs
    const plain = orThrow(await ensembleProbabilities(model, state, { test: test.x }));
    expect(maxAbsDiff(plain.test, oracle)).toBeGreaterThan(1e-4);
    tf.dispose([oracle, ens.test, plain.test, ...per]);
    other.dispose();
  });

  it("accepts a factory of one-shot generators; restores the model's BN statistics; no leaks", async () => {
    const before = fromModel(model, { include: "all" });
    const count = tf.memory().numTensors;
    function* once() {
      for (const b of bnBatches) yield b;
    }
    const a = orThrow(
      await ensembleProbabilities(model, state, { test: test.x }, { batchNorm: { batches: once } }),
    );
    const b = orThrow(
      await ensembleProbabilities(
        model,
        state,
        { test: test.x },
        { batchNorm: { batches: bnBatches } },
      ),
    );
    expect(maxAbsDiff(a.test, b.test)).toBe(0);
    tf.dispose([a.test, b.test]);
    expect(tf.memory().numTensors).toBe(count);
    const after = fromModel(model, { include: "all" });
    expect(after["bn/moving_mean"]?.dataSync()).toEqual(before["bn/moving_mean"]?.dataSync());
    expect(after["bn/moving_variance"]?.dataSync()).toEqual(
      before["bn/moving_variance"]?.dataSync(),
    );
    disposeWeights(before);
    disposeWeights(after);
  });

  it("disposeBatches frees fresh batches made per member; same result as kept batches", async () => {
    const count = tf.memory().numTensors;
    function* fresh() {
      for (const [x] of bnBatches) yield x.clone();
    }
    const a = orThrow(
      await ensembleProbabilities(
        model,
        state,
        { test: test.x },
        { batchNorm: { batches: fresh, disposeBatches: true } },
      ),
    );
    expect(tf.memory().numTensors).toBe(count + 1);
    const b = orThrow(
      await ensembleProbabilities(
        model,
        state,
        { test: test.x },
        { batchNorm: { batches: bnBatches } },
      ),
    );
    expect(maxAbsDiff(a.test, b.test)).toBe(0);
    tf.dispose([a.test, b.test]);
    expect(tf.memory().numTensors).toBe(count);
  });

  it("empty batches are a Left naming batchNorm.batches; nothing leaks", async () => {
    const count = tf.memory().numTensors;
    const r = await ensembleProbabilities(
      model,
      state,
      { test: test.x },
      { batchNorm: { batches: [] } },
    );
    expect(E.isLeft(r) && r.left.message).toMatch(/batchNorm\.batches: .*yielded no batch/);
    expect(tf.memory().numTensors).toBe(count);
  });

  it("compareEnsembleToSwa re-estimates BN for members and SWA and reports finite numbers", async () => {
    const count = tf.memory().numTensors;
    const r = orThrow(
      await compareEnsembleToSwa(model, state, test.x, {
        labels: test.labels,
        batchNorm: { batches: bnBatches, weighting: "samples" },
      }),
    );
    expect(tf.memory().numTensors).toBe(count);
    expect(r.members).toBe(3);
    for (const v of [r.ensembleSwaTv, r.memberPairwiseTv, r.ensembleSwaKl]) {
      expect(Number.isFinite(v)).toBe(true);
    }
    expect(r.metrics?.swa.count).toBe(60);
  });
});
