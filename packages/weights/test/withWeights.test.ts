import * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import {
  assignToModel,
  disposeWeights,
  flatten,
  fromModel,
  type Weights,
  withWeights,
  withWeightsSync,
} from "../src/index.js";

const net = () =>
  tf.sequential({
    layers: [
      tf.layers.dense({
        units: 4,
        inputShape: [3],
        activation: "relu",
        name: "h",
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      }),
      tf.layers.batchNormalization({ name: "bn" }),
      tf.layers.dense({
        units: 1,
        name: "o",
        kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
      }),
    ],
  });
const x = tf.tensor2d(
  Array.from({ length: 24 }, (_, i) => Math.sin(i)),
  [8, 3],
);

const snapshot = (m: tf.LayersModel): number[] => {
  const w = fromModel(m, { include: "all" });
  const out = Array.from(flatten(w));
  disposeWeights(w);
  return out;
};

const zerosOf = (m: tf.LayersModel): Weights => {
  const w = fromModel(m);
  const z = Object.fromEntries(Object.entries(w).map(([k, t]) => [k, tf.zerosLike(t)]));
  disposeWeights(w);
  return z;
};

/** Non-zero BN statistics, so a restore that skipped buffers would show. */
const shiftBuffers = (m: tf.LayersModel): void => {
  const r = assignToModel(m, {
    "bn/moving_mean": tf.tensor1d([0.5, -0.25, 1, 2]),
    "bn/moving_variance": tf.tensor1d([2, 3, 4, 5]),
  });
  expect(E.isRight(r)).toBe(true);
};

describe("withWeights", () => {
  it("swaps weights in for fn and restores all the live ones (buffers included), even when fn throws", async () => {
    const m = net();
    shiftBuffers(m);
    const live = snapshot(m);
    const zeros = zerosOf(m);
    const before = tf.memory().numTensors;
    const r = await withWeights(m, zeros, () =>
      tf.tidy(() => (m.predict(x) as tf.Tensor).sum().arraySync() as number),
    );
    expect(r).toEqual(E.right(0)); // all-zero trainable weights predict 0
    await expect(
      withWeights(m, zeros, async () => Promise.reject(new Error("boom"))),
    ).rejects.toThrow("boom");
    await expect(
      withWeights(m, zeros, () => {
        throw new Error("sync boom");
      }),
    ).rejects.toThrow("sync boom");
    expect(tf.memory().numTensors).toBe(before);
    expect(snapshot(m)).toEqual(live);
    disposeWeights(zeros);
    m.dispose();
  });

  it("is a Left, without running fn or changing the model, when the weights do not fit", async () => {
    const m = net();
    const live = snapshot(m);
    const before = tf.memory().numTensors;
    const wrong = { "nope/kernel": tf.zeros([3, 4]) };
    let ran = false;
    const bad = await withWeights(m, wrong, () => {
      ran = true;
    });
    expect(E.isLeft(bad) && bad.left.kind).toBe("shape");
    const shape = { "h/kernel": tf.zeros([2, 2]) };
    const bad2 = withWeightsSync(m, shape, () => {
      ran = true;
    });
    expect(E.isLeft(bad2) && bad2.left.kind).toBe("shape");
    expect(ran).toBe(false);
    tf.dispose([wrong["nope/kernel"], shape["h/kernel"]]);
    expect(tf.memory().numTensors).toBe(before);
    expect(snapshot(m)).toEqual(live);
    m.dispose();
  });

  it("runs fn on exactly the given weights (oracle: a second model assigned by hand)", async () => {
    const m = net();
    const other = net();
    const w = tf.tidy(() => {
      const base = fromModel(m, { include: "all" });
      return Object.fromEntries(
        Object.entries(base).map(([k, t]) => [k, tf.add(tf.mul(t, 0.5), 0.1)]),
      );
    });
    expect(E.isRight(assignToModel(other, w))).toBe(true);
    const want = Array.from((other.predict(x) as tf.Tensor).dataSync());
    const liveOut = Array.from((m.predict(x) as tf.Tensor).dataSync());
    const got = await withWeights(m, w, () => Array.from((m.predict(x) as tf.Tensor).dataSync()));
    expect(got).toEqual(E.right(want));
    const gotSync = withWeightsSync(m, w, () => Array.from((m.predict(x) as tf.Tensor).dataSync()));
    expect(gotSync).toEqual(E.right(want));
    expect(want).not.toEqual(liveOut);
    expect(Array.from((m.predict(x) as tf.Tensor).dataSync())).toEqual(liveOut);
    disposeWeights(w);
    m.dispose();
    other.dispose();
  });
});

describe("withWeightsSync", () => {
  it("restores the live weights when fn throws, leak-free", () => {
    const m = net();
    shiftBuffers(m);
    const live = snapshot(m);
    const zeros = zerosOf(m);
    const before = tf.memory().numTensors;
    expect(() =>
      withWeightsSync(m, zeros, () => {
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(tf.memory().numTensors).toBe(before);
    expect(snapshot(m)).toEqual(live);
    disposeWeights(zeros);
    m.dispose();
  });
});
