import * as tf from "@tensorflow/tfjs";
import { atCycleEnds, when } from "@wider/averaging";
import { beforeAll, describe, expect, it } from "vitest";
import { swag, swagCallback } from "../src/index.js";

beforeAll(async () => {
  expect(await tf.setBackend("cpu")).toBe(true);
});

describe("swagCallback in model.fit", () => {
  it("collects on the policy's steps across epochs, trainable weights by default, and disposes", async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ units: 3, inputShape: [2], name: "h" }),
        tf.layers.batchNormalization({ name: "bn" }),
        tf.layers.dense({ units: 1, name: "out" }),
      ],
    });
    model.compile({ optimizer: tf.train.sgd(0.05), loss: "meanSquaredError" });
    const x = tf.randomNormal([64, 2], 0, 1, "float32", 1);
    const y = tf.sum(x, 1, true);
    const before = tf.memory().numTensors;
    const cb = swagCallback({ swag: swag({ maxRank: 3 }), policy: atCycleEnds(2, { start: 2 }) });
    await model.fit(x, y, { epochs: 3, batchSize: 16, callbacks: [cb] }); // 12 steps: 3, 5, 7, 9, 11
    expect(cb.step).toBe(12);
    expect(cb.state.n).toBe(5);
    expect(cb.state.deviations.length).toBe(3);
    expect(Object.keys(cb.state.mean!).sort()).toEqual([
      "bn/beta",
      "bn/gamma",
      "h/bias",
      "h/kernel",
      "out/bias",
      "out/kernel",
    ]);
    // The mean is not the latest weights (it averages 5 different iterates).
    const live = model.getLayer("out").getWeights()[0]!.dataSync();
    expect(Array.from(cb.state.mean!["out/kernel"]!.dataSync())).not.toEqual(Array.from(live));
    cb.dispose();
    expect(cb.state.n).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    const all = swagCallback({ swag: swag(), policy: when({ start: 10 }), include: "all" });
    await model.fit(x, y, { epochs: 1, batchSize: 16, callbacks: [all] });
    expect(all.state.n).toBe(0); // steps 0..3 are before start
    await model.fit(x, y, { epochs: 3, batchSize: 16, callbacks: [all] });
    expect(all.state.n).toBe(6);
    expect(Object.keys(all.state.mean!)).toContain("bn/moving_mean");
    all.dispose();
    tf.dispose([x, y]);
    model.dispose();
  });
});
