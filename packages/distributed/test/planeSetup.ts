/**
 * The model, data and evaluation of the distributed-plane test, built the same way in the test
 * process (local `evaluatePlan`) and in each worker process (`handlers.point`): a small dense
 * network with BatchNorm on seeded random data, BatchNorm re-estimated at each point.
 */
import * as tf from "@tensorflow/tfjs";
import { evaluateClassifier } from "@wider/geometry";
import type { PointSetup } from "../src/index.js";

/** A seeded classifier with a BatchNorm layer. */
export const bnModel = (seed: number, units = 8, inputs = 6): tf.LayersModel => {
  const m = tf.sequential();
  m.add(
    tf.layers.dense({
      name: "d",
      units,
      inputShape: [inputs],
      kernelInitializer: tf.initializers.glorotNormal({ seed }),
    }),
  );
  m.add(tf.layers.batchNormalization({ name: "bn" }));
  m.add(tf.layers.activation({ activation: "relu" }));
  m.add(
    tf.layers.dense({
      name: "o",
      units: 3,
      activation: "softmax",
      kernelInitializer: tf.initializers.glorotNormal({ seed: seed + 1 }),
    }),
  );
  return m;
};

/** The evaluator a plane job carries: everything `pointSetup` needs. */
export const evaluator = { model: "bn-dense-6-8-3", modelSeed: 11, dataSeed: 5, n: 96 } as const;

/**
 * The model (weights replaced per point), data and BN batches of `evaluator` (optional fields:
 * `units` and `inputs`, the model's sizes, and `batch`, the BN batch size; the benchmark makes
 * them larger).
 */
export const pointSetup = (e: Readonly<Record<string, unknown>>): PointSetup => {
  const n = Number(e.n);
  const dataSeed = Number(e.dataSeed);
  const inputs = Number(e.inputs ?? 6);
  const batch = Number(e.batch ?? 32);
  const x = tf.randomNormal([n, inputs], 0, 1, "float32", dataSeed);
  const labels = tf.randomUniform([n], 0, 3, "int32", dataSeed + 1);
  const y = tf.oneHot(labels, 3).asType("float32");
  labels.dispose();
  const batches = Array.from({ length: Math.ceil(n / batch) }, (_, i) =>
    tf.slice(x, i * batch, Math.min(batch, n - i * batch)),
  );
  return {
    model: bnModel(Number(e.modelSeed), Number(e.units ?? 8), inputs),
    evaluate: evaluateClassifier({ train: { x, y } }),
    bnBatches: () => batches,
  };
};
