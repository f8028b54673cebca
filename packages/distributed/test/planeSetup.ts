/**
 * The model, data and evaluation of the distributed-plane test, built the same way in the test
 * process (local `evaluatePlan`) and in each worker process (`handlers.point`): a small dense
 * network with BatchNorm on seeded random data, BatchNorm re-estimated at each point.
 */
import * as tf from "@tensorflow/tfjs";
import { evaluateClassifier } from "@wider/geometry";
import type { PointSetup } from "../src/index.js";

/** A seeded classifier with a BatchNorm layer. */
export const bnModel = (seed: number): tf.LayersModel => {
  const m = tf.sequential();
  m.add(
    tf.layers.dense({
      name: "d",
      units: 8,
      inputShape: [6],
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

/** The model (weights replaced per point), data and BN batches of `evaluator`. */
export const pointSetup = (e: Readonly<Record<string, unknown>>): PointSetup => {
  const n = Number(e.n);
  const dataSeed = Number(e.dataSeed);
  const x = tf.randomNormal([n, 6], 0, 1, "float32", dataSeed);
  const labels = tf.randomUniform([n], 0, 3, "int32", dataSeed + 1);
  const y = tf.oneHot(labels, 3).asType("float32");
  labels.dispose();
  const batches = [0, 32, 64].map((i) => tf.slice(x, i, 32));
  return {
    model: bnModel(Number(e.modelSeed)),
    evaluate: evaluateClassifier({ train: { x, y } }),
    bnBatches: () => batches,
  };
};
