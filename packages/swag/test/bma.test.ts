import * as tf from "@tensorflow/tfjs";
import { updateBatchNorm } from "@wider/averaging";
import { assignToModel, disposeWeights, fromModel, type Weights } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { beforeAll, describe, expect, it } from "vitest";
import {
  allocateSamples,
  bayesianModelAverage,
  disposeSwagState,
  type SwagState,
  sampleSeed,
  swag,
  swagSampleSeeded,
} from "../src/index.js";
import { expectClose } from "./helpers.js";

beforeAll(async () => {
  expect(await tf.setBackend("cpu")).toBe(true);
});

const tiny = (bn: boolean) =>
  tf.sequential({
    layers: [
      tf.layers.dense({ units: 5, inputShape: [4], activation: "tanh", name: "h" }),
      ...(bn ? [tf.layers.batchNormalization({ name: "bn" })] : []),
      tf.layers.dense({ units: 3, activation: "softmax", name: "out" }),
    ],
  });

/** A SWAG state from 8 perturbations of the model's trainable weights. */
const collect = (model: tf.LayersModel, seed: number): SwagState => {
  const c = swag({ maxRank: 5 });
  let s = c.init();
  const base = fromModel(model);
  for (let i = 0; i < 8; i++) {
    const w: Weights = tf.tidy(() =>
      Object.fromEntries(
        Object.entries(base).map(([k, t], j) => [
          k,
          tf.add(t, tf.randomNormal(t.shape, 0, 0.3, "float32", seed * 100 + i * 10 + j)),
        ]),
      ),
    );
    s = c.update(s, w);
    disposeWeights(w);
  }
  disposeWeights(base);
  return s;
};

const x = () => tf.randomNormal([16, 4], 0, 1, "float32", 7);

/** The oracle: predict each sample one by one (BN re-estimated if asked) and average in float64. */
const manual = async (
  model: tf.LayersModel,
  plan: readonly { state: SwagState; seeds: number[] }[],
  xs: tf.Tensor,
  scale: number,
  bnBatches?: tf.Tensor[],
): Promise<Float64Array> => {
  const live = fromModel(model, { include: "all" });
  const acc = new Float64Array(xs.shape[0]! * 3);
  let count = 0;
  for (const { state, seeds } of plan) {
    for (const seed of seeds) {
      const w = swagSampleSeeded(state, { seed, scale });
      assignToModel(model, w);
      disposeWeights(w);
      if (bnBatches !== undefined) await updateBatchNorm(model, bnBatches);
      const p = model.predict(xs) as tf.Tensor;
      p.dataSync().forEach((v, i) => {
        acc[i] = acc[i]! + v;
      });
      p.dispose();
      count++;
    }
  }
  assignToModel(model, live);
  disposeWeights(live);
  return acc.map((v) => v / count);
};

describe("bayesianModelAverage", () => {
  it("with scale 0 equals the SWA model's softmax; the model's weights come back; no leaks", async () => {
    const model = tiny(false);
    const s = collect(model, 1);
    const xs = x();
    const own = fromModel(model);
    const before = tf.memory().numTensors;
    const r = await bayesianModelAverage(model, s, { test: xs }, { scale: 0, samples: 4 });
    if (E.isLeft(r)) throw new Error(r.left.message);
    assignToModel(model, s.mean!);
    const swaProbs = model.predict(xs) as tf.Tensor;
    const worst = expectClose(r.right.test.dataSync(), swaProbs.dataSync(), 1e-6, 1e-30, "bma");
    expect(worst).toBeLessThan(1e-6);
    swaProbs.dispose();
    r.right.test.dispose();
    // Restored: the model held its own weights before we assigned the mean for the oracle.
    assignToModel(model, own);
    expect(tf.memory().numTensors).toBe(before);
    disposeWeights(own);
    disposeSwagState(s);
    xs.dispose();
    model.dispose();
  });

  it("equals the average over the same samples predicted one by one, and restores the model", async () => {
    const model = tiny(false);
    const s = collect(model, 2);
    const xs = x();
    const own = Array.from(fromModel(model)["h/kernel"]!.dataSync());
    const r = await bayesianModelAverage(model, s, { test: xs }, { samples: 6, seed: 3 });
    if (E.isLeft(r)) throw new Error(r.left.message);
    const oracle = await manual(
      model,
      [{ state: s, seeds: [0, 1, 2, 3, 4, 5].map((j) => sampleSeed(3, 0, j)) }],
      xs,
      0.5,
    );
    expectClose(r.right.test.dataSync(), oracle, 1e-5, 1e-30, "bma vs one by one");
    // The model's own weights are back.
    const h = fromModel(model);
    expect(Array.from(h["h/kernel"]!.dataSync())).toEqual(own);
    disposeWeights(h);
    r.right.test.dispose();
    disposeSwagState(s);
    xs.dispose();
    model.dispose();
  });

  it("MultiSWAG splits S samples over M states (the first S mod M get one more)", async () => {
    expect(allocateSamples(30, 4)).toEqual([8, 8, 7, 7]);
    expect(allocateSamples(30, 1)).toEqual([30]);
    expect(allocateSamples(5, 5)).toEqual([1, 1, 1, 1, 1]);
    const model = tiny(false);
    const s1 = collect(model, 3);
    const s2 = collect(model, 4);
    const xs = x();
    const r = await bayesianModelAverage(model, [s1, s2], { test: xs }, { samples: 5, seed: 9 });
    if (E.isLeft(r)) throw new Error(r.left.message);
    const oracle = await manual(
      model,
      [
        { state: s1, seeds: [0, 1, 2].map((j) => sampleSeed(9, 0, j)) },
        { state: s2, seeds: [0, 1].map((j) => sampleSeed(9, 1, j)) },
      ],
      xs,
      0.5,
    );
    expectClose(r.right.test.dataSync(), oracle, 1e-5, 1e-30, "multiswag vs one by one");
    const few = await bayesianModelAverage(model, [s1, s2], { test: xs }, { samples: 1 });
    expect(E.isLeft(few) && few.left.message).toMatch(
      /samples is 1; pass an integer >= the number of SWAG states \(2\)/,
    );
    r.right.test.dispose();
    disposeSwagState(s1);
    disposeSwagState(s2);
    xs.dispose();
    model.dispose();
  });

  it("a BatchNorm model: requires batchNorm, then re-estimates it for every sample", async () => {
    const model = tiny(true);
    const s = collect(model, 5);
    const xs = x();
    const train = [0, 8].map((i) => tf.randomNormal([8, 4], 0.5, 2, "float32", 20 + i));
    await expect(bayesianModelAverage(model, s, { test: xs })).rejects.toThrow(
      /BatchNorm layers; pass batchNorm: \{ batches \}/,
    );
    const stats = Array.from(fromModel(model, { include: "all" })["bn/moving_mean"]!.dataSync());
    const r = await bayesianModelAverage(
      model,
      s,
      { test: xs },
      {
        samples: 3,
        seed: 1,
        batchNorm: { batches: train },
      },
    );
    if (E.isLeft(r)) throw new Error(r.left.message);
    const oracle = await manual(
      model,
      [{ state: s, seeds: [0, 1, 2].map((j) => sampleSeed(1, 0, j)) }],
      xs,
      0.5,
      train,
    );
    expectClose(r.right.test.dataSync(), oracle, 1e-5, 1e-30, "bn bma vs one by one");
    // Without re-estimation the answer differs (the check above is not vacuous).
    const noBn = await manual(
      model,
      [{ state: s, seeds: [0, 1, 2].map((j) => sampleSeed(1, 0, j)) }],
      xs,
      0.5,
    );
    const diff = Math.max(...Array.from(r.right.test.dataSync(), (v, i) => Math.abs(v - noBn[i]!)));
    expect(diff).toBeGreaterThan(1e-3);
    // The model's BatchNorm statistics are restored.
    const after = fromModel(model, { include: "all" });
    expect(Array.from(after["bn/moving_mean"]!.dataSync())).toEqual(stats);
    disposeWeights(after);
    r.right.test.dispose();
    tf.dispose([xs, ...train]);
    disposeSwagState(s);
    model.dispose();
  });

  it("BatchNorm batches made fresh per sample are freed with disposeBatches (same answer)", async () => {
    const model = tiny(true);
    const s = collect(model, 5);
    const xs = x();
    const train = [0, 8].map((i) => tf.randomNormal([8, 4], 0.5, 2, "float32", 20 + i));
    const kept = await bayesianModelAverage(
      model,
      s,
      { test: xs },
      { samples: 3, seed: 1, batchNorm: { batches: train } },
    );
    if (E.isLeft(kept)) throw new Error(kept.left.message);
    const before = tf.memory().numTensors;
    const fresh = await bayesianModelAverage(
      model,
      s,
      { test: xs },
      {
        samples: 3,
        seed: 1,
        batchNorm: { batches: () => train.map((t) => t.clone()), disposeBatches: true },
      },
    );
    if (E.isLeft(fresh)) throw new Error(fresh.left.message);
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(Array.from(fresh.right.test.dataSync())).toEqual(Array.from(kept.right.test.dataSync()));
    tf.dispose([fresh.right.test, kept.right.test, xs, ...train]);
    disposeSwagState(s);
    model.dispose();
  });

  it("bad options throw, bad states are a Left, both naming the fix", async () => {
    const model = tiny(false);
    const s = collect(model, 6);
    const xs = x();
    const cases: [Parameters<typeof bayesianModelAverage>[3], RegExp][] = [
      [{ scale: -1 }, /scale is -1/],
      [{ seed: 0.5 }, /seed is 0.5/],
    ];
    for (const [options, message] of cases) {
      await expect(bayesianModelAverage(model, s, { test: xs }, options)).rejects.toThrow(message);
      await expect(bayesianModelAverage(model, s, { test: xs }, options)).rejects.toThrow(
        expect.objectContaining({ _tag: "SwagError", kind: "config" }),
      );
    }
    await expect(bayesianModelAverage(model, s, {})).rejects.toThrow(/evalSets is empty/);
    const few = await bayesianModelAverage(model, s, { test: xs }, { samples: 0 });
    expect(E.isLeft(few) && few.left.message).toMatch(/samples is 0/);
    const empty = await bayesianModelAverage(model, swag().init(), { test: xs });
    expect(E.isLeft(empty) && empty.left).toMatchObject({
      _tag: "EnsemblingError",
      kind: "config",
      path: "states[0]",
    });
    expect(E.isLeft(empty) && empty.left.message).toMatch(/states\[0\] has collected nothing/);
    disposeSwagState(s);
    xs.dispose();
    model.dispose();
  });
});
