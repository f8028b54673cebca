/**
 * The models every figure is measured on, from `@wider/models`. The PyTorch peer
 * (`python/torch_bench.py`) builds the same shapes.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { cnn, mlp } from "@wider/models";

/** The models of the benchmark. */
export type ModelName = "mlp" | "cnn" | "cnn-bn";

/** Human-readable architecture of each model, for tables. */
export const architecture: Readonly<Record<ModelName, string>> = {
  mlp: "MLP 784-512-256-10 (ReLU)",
  cnn: "CNN conv32-pool-conv64-pool-dense128-dense10 (3x3 valid, ReLU)",
  "cnn-bn": "CNN conv32-BN-pool-conv64-BN-pool-dense128-dense10",
};

/**
 * Builds one of the models on 28x28x1 inputs, outputting logits (10 classes), from
 * `@wider/models` (the same definitions the app and users build on), seeded by `seed`. The
 * caller owns the model.
 *
 * @example
 * const model = buildModel("cnn", 0); // ... model.dispose();
 */
export const buildModel = (name: ModelName, seed: number): tf.Sequential =>
  name === "mlp" ? mlp({ seed }) : cnn({ seed, batchNorm: name === "cnn-bn" });

/** Number of trainable parameters of a model. */
export const parameterCount = (model: tf.LayersModel): number =>
  model.trainableWeights.reduce((n, w) => n + tf.util.sizeFromShape(w.shape as number[]), 0);
