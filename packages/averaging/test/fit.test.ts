import * as tf from "@tensorflow/tfjs";
import { constant, piecewiseConstant } from "@wider/schedules";
import {
  assignToModel,
  disposeWeights,
  flatten,
  fromModel,
  type Weights,
  withWeights,
} from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import {
  averagingCallback,
  withWeights as deprecatedWithWeights,
  disposeState,
  getLearningRate,
  learningRateScheduler,
  setLearningRate,
  swa,
  when,
} from "../src/index.js";

const net = (optimizer: tf.Optimizer) => {
  const m = tf.sequential({
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
  m.compile({ optimizer, loss: "meanSquaredError" });
  return m;
};
const x = tf.tensor2d(
  Array.from({ length: 24 }, (_, i) => Math.sin(i)),
  [8, 3],
);
const y = tf.tensor2d(
  Array.from({ length: 8 }, (_, i) => Math.cos(i)),
  [8, 1],
);

describe("averagingCallback", () => {
  it("averages the weights after the batches the policy selects (oracle: snapshots taken by hand)", async () => {
    const m = net(tf.train.sgd(0.1));
    const snaps: Weights[] = [];
    const record = new (class extends tf.Callback {
      override async onBatchEnd() {
        snaps.push(fromModel(m, { include: "all" }));
      }
    })();
    const cb = averagingCallback({ averager: swa(), policy: when({ start: 3, every: 2 }) });
    // 2 epochs x 4 batches = steps 0..7; the policy picks 3, 5, 7.
    await m.fit(x, y, { epochs: 2, batchSize: 2, shuffle: false, callbacks: [cb, record] });
    expect(cb.step).toBe(8);
    expect(cb.state.n).toBe(3);
    const picked = [3, 5, 7].map((i) => Array.from(flatten(snaps[i]!)));
    const want = picked[0]!.map((_, j) => (picked[0]![j]! + picked[1]![j]! + picked[2]![j]!) / 3);
    const got = Array.from(flatten(cb.state.mean!));
    for (let j = 0; j < want.length; j++) expect(got[j]!).toBeCloseTo(want[j]!, 5);
    expect(Object.keys(cb.state.mean!)).toContain("bn/moving_mean"); // include: "all" by default
    for (const s of snaps) disposeWeights(s);
    cb.dispose();
    expect(cb.state.n).toBe(0);
    m.dispose();
  });
});

describe("learning rate", () => {
  it("setLearningRate changes SGD and Momentum steps through setLearningRate", () => {
    for (const make of [() => tf.train.sgd(1), () => tf.train.momentum(1, 0.9)]) {
      const v = tf.variable(tf.scalar(0));
      const opt = make();
      expect(E.isRight(setLearningRate(opt, 0.25))).toBe(true);
      expect(getLearningRate(opt)).toBe(0.25);
      opt.minimize(() => tf.mul(v, 2) as tf.Scalar); // gradient 2 -> step -0.5
      expect(v.dataSync()[0]).toBeCloseTo(-0.5, 6);
      opt.dispose();
      v.dispose();
    }
  });

  it("setLearningRate truly changes the step of Adam, Adamax, Adagrad, Adadelta and RMSProp", () => {
    const makers = [
      () => tf.train.adam(1),
      () => tf.train.adamax(1),
      () => tf.train.adagrad(1),
      () => tf.train.adadelta(1),
      () => tf.train.rmsprop(1),
    ];
    for (const make of makers) {
      const step = (lr: number | null) => {
        const v = tf.variable(tf.scalar(1));
        const opt = make();
        if (lr !== null) expect(E.isRight(setLearningRate(opt, lr))).toBe(true);
        opt.minimize(() => tf.square(v) as tf.Scalar);
        const d = 1 - v.dataSync()[0]!;
        opt.dispose();
        v.dispose();
        return d;
      };
      const base = step(null);
      expect(base, make().getClassName()).not.toBe(0);
      // Every one of these steps is linear in the rate: lr 0.1 gives a tenth of the lr-1 step.
      expect(step(0.1) / base, make().getClassName()).toBeCloseTo(0.1, 5);
    }
  });

  it("setLearningRate is a Left for a bad rate or an unknown optimizer", () => {
    const opt = tf.train.sgd(0.1);
    expect(E.isLeft(setLearningRate(opt, -1)) && setLearningRate(opt, -1)).toMatchObject({
      left: { _tag: "AveragingError", kind: "config" },
    });
    const odd = Object.assign(Object.create(tf.train.sgd(1)), {
      getClassName: () => "Mystery",
    }) as tf.Optimizer;
    const r = setLearningRate(odd, 0.1);
    expect(E.isLeft(r) && r.left.message).toMatch(
      /cannot set the learning rate of a Mystery optimizer/,
    );
    opt.dispose();
  });

  it("learningRateScheduler sets the rate from the schedule before every batch, across epochs", async () => {
    for (const opt of [tf.train.sgd(0.5), tf.train.adam(0.5)]) {
      const m = net(opt);
      const seen: number[] = [];
      const probe = new (class extends tf.Callback {
        override async onBatchBegin() {
          seen.push(getLearningRate(m.optimizer));
        }
      })();
      const schedule = piecewiseConstant({ boundaries: [2, 5], values: [0.1, 0.01, 0.001] });
      const cb = learningRateScheduler({ schedule });
      await m.fit(x, y, { epochs: 2, batchSize: 2, shuffle: false, callbacks: [cb, probe] });
      expect(seen).toEqual([0.1, 0.1, 0.01, 0.01, 0.01, 0.001, 0.001, 0.001]);
      expect(cb.step).toBe(8);
      m.dispose();
    }
    const m = net(tf.train.sgd(1));
    const cb = learningRateScheduler({ schedule: constant(0.3), initialStep: 10 });
    await m.fit(x, y, { epochs: 1, batchSize: 8, callbacks: [cb] });
    expect(cb.step).toBe(11);
    expect(getLearningRate(m.optimizer)).toBe(0.3);
    m.dispose();
  });
});

describe("withWeights (moved to @wider/weights)", () => {
  it("the deprecated re-export is @wider/weights' withWeights", () => {
    expect(deprecatedWithWeights).toBe(withWeights);
  });

  it("evaluates an SWA mean: the averaged model, then the live model again", async () => {
    const m = net(tf.train.sgd(0.1));
    const cb = averagingCallback({ averager: swa(), policy: when() });
    await m.fit(x, y, { epochs: 1, batchSize: 4, shuffle: false, callbacks: [cb] });
    const liveOut = Array.from((m.predict(x) as tf.Tensor).dataSync());
    const swaOut = await withWeights(m, cb.state.mean!, () =>
      Array.from((m.predict(x) as tf.Tensor).dataSync()),
    );
    const other = net(tf.train.sgd(0.1));
    expect(E.isRight(assignToModel(other, cb.state.mean!))).toBe(true);
    expect(swaOut).toEqual(E.right(Array.from((other.predict(x) as tf.Tensor).dataSync())));
    expect(Array.from((m.predict(x) as tf.Tensor).dataSync())).toEqual(liveOut);
    disposeState(cb.state);
    m.dispose();
    other.dispose();
  });
});
