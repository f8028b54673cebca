// Models and batches shared by the tests and the child process of the kill test (no vitest here).
import * as tf from "@tensorflow/tfjs";

/** A small classifier with explicit layer names and seeded initializers: same weights every build. */
export const buildClassifier = (
  opts: { batchNorm?: boolean; inputs?: number; classes?: number; seed?: number } = {},
): tf.Sequential => {
  const inputs = opts.inputs ?? 6;
  const init = (seed: number) => tf.initializers.glorotUniform({ seed: seed + (opts.seed ?? 0) });
  return tf.sequential({
    layers: [
      tf.layers.dense({
        units: 8,
        inputShape: [inputs],
        activation: "relu",
        name: "hidden",
        kernelInitializer: init(1),
      }),
      ...(opts.batchNorm === false ? [] : [tf.layers.batchNormalization({ name: "bn" })]),
      tf.layers.dense({ units: opts.classes ?? 3, name: "logits", kernelInitializer: init(2) }),
    ],
  });
};

/** A deterministic batch of step `step`: inputs from a seeded normal, labels 0..classes-1. */
export const batchOf = (step: number, size = 8, inputs = 6, classes = 3) => {
  const x = tf.randomNormal([size, inputs], 0, 1, "float32", 1000 + (step % 5));
  const y = tf.tensor1d(
    Array.from({ length: size }, (_, i) => (i * 7 + (step % 5)) % classes),
    "int32",
  );
  return { x, y };
};

/** The run the kill test repeats in a child process: 40 steps, 4 per epoch. */
export const killRun = { steps: 40, stepsPerEpoch: 4, lr: 0.1 } as const;
