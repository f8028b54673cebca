/**
 * A tiny real model and data set for the ensembling tests: three Gaussian blobs in 8-D
 * (seeded, linearly separable-ish) and an MLP with explicit layer names, trained with SGD.
 */
import * as tf from "@tensorflow/tfjs";

/** mulberry32: a small seeded uniform generator on [0, 1). */
export const uniform = (seed: number): (() => number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

/** Standard normal samples by Box-Muller. */
const normal = (u: () => number) => () =>
  Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());

export const FEATURES = 8;
export const CLASSES = 3;

/** `n` samples: class c is centred at 1.5 * e_c (plus noise of standard deviation 1). */
export const blobs = (
  n: number,
  seed: number,
): { x: tf.Tensor2D; y: tf.Tensor2D; labels: number[] } => {
  const g = normal(uniform(seed));
  const xs: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % CLASSES;
    labels.push(c);
    for (let f = 0; f < FEATURES; f++) xs.push(g() + (f === c ? 1.5 : 0));
  }
  return {
    x: tf.tensor2d(xs, [n, FEATURES]),
    y: tf.tidy(() => tf.oneHot(tf.tensor1d(labels, "int32"), CLASSES).toFloat() as tf.Tensor2D),
    labels,
  };
};

/** An MLP 8 -> 16 (relu) -> 3 with explicit layer names, so weights move between instances. */
export const mlp = (seed: number, output: "softmax" | "linear" = "softmax"): tf.LayersModel => {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({
        name: "hidden",
        inputShape: [FEATURES],
        units: 16,
        activation: "relu",
        kernelInitializer: tf.initializers.glorotUniform({ seed }),
      }),
      tf.layers.dense({
        name: "out",
        units: CLASSES,
        activation: output,
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
      }),
    ],
  });
  model.compile({ optimizer: tf.train.sgd(0.1), loss: "categoricalCrossentropy" });
  return model;
};
