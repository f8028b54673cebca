// The README example, verbatim apart from the test scaffolding, so it stays runnable.
import * as tf from "@tensorflow/tfjs";
import { when } from "@wider/averaging";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import {
  bayesianModelAverage,
  calibrationReport,
  reliabilityDiagramSvg,
  swag,
  swagCallback,
} from "../src/index.js";

describe("README example", () => {
  it("collect with model.fit, BMA with BatchNorm re-estimation, calibration report", async () => {
    const start = tf.memory().numTensors;
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ units: 16, inputShape: [2], activation: "relu", name: "hidden" }),
        tf.layers.batchNormalization({ name: "bn" }),
        tf.layers.dense({ units: 3, activation: "softmax", name: "out" }),
      ],
    });
    model.compile({ optimizer: tf.train.sgd(0.1), loss: "sparseCategoricalCrossentropy" });
    const x = tf.randomNormal([96, 2], 0, 1, "float32", 1);
    const y = tf.tidy(() =>
      tf.cast(tf.argMax(tf.concat([x, tf.neg(tf.sum(x, 1, true))], 1), 1), "float32"),
    );

    // Collect every 2nd batch from step 12 on: mean, second moment, last 20 deviations.
    const cb = swagCallback({ swag: swag(), policy: when({ start: 12, every: 2 }) });
    await model.fit(x, y, { epochs: 10, batchSize: 16, callbacks: [cb] });

    // 30 samples (scale 0.5, low rank), BatchNorm re-estimated on the training data for each.
    const probs = await bayesianModelAverage(
      model,
      cb.state,
      { test: x },
      {
        samples: 30,
        seed: 1,
        batchNorm: { batches: [x] },
      },
    );
    if (E.isLeft(probs)) throw new Error(probs.left.message);
    const report = calibrationReport(probs.right.test, y);
    if (E.isLeft(report)) throw new Error(report.left.message);
    const { accuracy, nll, brier, ece } = report.right.metrics;
    const svg = reliabilityDiagramSvg(report.right.reliability, { title: "SWAG" });

    expect(cb.state.n).toBe(24);
    expect(accuracy).toBeGreaterThan(0.6);
    expect([nll, brier, ece].every(Number.isFinite)).toBe(true);
    expect(svg).toContain("<svg");
    probs.right.test.dispose();
    cb.dispose();
    tf.dispose([x, y]);
    model.optimizer.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });
});
