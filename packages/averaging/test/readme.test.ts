// The README examples, verbatim apart from the test scaffolding, so they stay runnable.
import * as tf from "@tensorflow/tfjs";
import { cyclical } from "@wider/schedules";
import { disposeWeights, fromModel, withWeights } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import {
  averagingCallback,
  disposeState,
  ema,
  learningRateScheduler,
  swa,
  updateBatchNorm,
  when,
} from "../src/index.js";

describe("README examples", () => {
  it("hand-written loop", async () => {
    const start = tf.memory().numTensors;
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ units: 16, inputShape: [4], activation: "relu", name: "hidden" }),
        tf.layers.batchNormalization({ name: "bn" }),
        tf.layers.dense({ units: 1, name: "out" }),
      ],
    });
    const optimizer = tf.train.sgd(0.05);
    const xs = tf.randomNormal([64, 4], 0, 1, "float32", 1);
    const ys = tf.sum(xs, 1, true);
    const batches = [0, 16, 32, 48].map((i) => [xs.slice(i, 16), ys.slice(i, 16)] as const);

    const averager = swa();
    const policy = when({ start: 20 });
    let state = averager.init();
    for (let step = 0; step < 40; step++) {
      const [x, y] = batches[step % batches.length]!;
      optimizer.minimize(
        () =>
          tf.losses.meanSquaredError(
            y,
            model.apply(x, { training: true }) as tf.Tensor,
          ) as tf.Scalar,
      );
      if (policy(step)) {
        const w = fromModel(model, { include: "all" });
        state = averager.update(state, w);
        disposeWeights(w);
      }
    }
    const mse = await withWeights(model, state.mean!, async () => {
      await updateBatchNorm(model, batches, { weighting: "batch" });
      return tf.tidy(
        () => tf.losses.meanSquaredError(ys, model.predict(xs) as tf.Tensor).dataSync()[0],
      );
    });
    expect(state.n).toBe(20);
    expect(E.isRight(mse) && Number.isFinite(mse.right)).toBe(true);
    disposeState(state);

    tf.dispose([xs, ys, ...batches.flat()]);
    optimizer.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it("model.fit", async () => {
    const model = tf.sequential({
      layers: [tf.layers.dense({ units: 1, inputShape: [2], name: "lin" })],
    });
    model.compile({ optimizer: tf.train.adam(0.01), loss: "meanSquaredError" });
    const x = tf.randomNormal([64, 2], 0, 1, "float32", 2);
    const y = tf.sum(x, 1, true);

    const avg = averagingCallback({
      averager: ema({ decay: 0.999, warmup: true }),
      policy: when(),
    });
    const lr = learningRateScheduler({
      schedule: cyclical({ high: 0.05, low: 0.001, cycle: 100 }),
    });
    await model.fit(x, y, { epochs: 5, batchSize: 32, callbacks: [avg, lr] });

    expect(avg.state.n).toBe(10);
    expect(lr.step).toBe(10);
    avg.dispose();
    tf.dispose([x, y]);
    model.dispose();
  });
});
