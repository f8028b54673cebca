/**
 * The models every figure is measured on, with explicit layer names (so weights move between
 * instances by name) and seeded initializers (so a seed gives the same model on every machine).
 * The PyTorch peer (`python/torch_bench.py`) builds the same shapes.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** The models of the benchmark. */
export type ModelName = "mlp" | "cnn" | "cnn-bn";

/** Human-readable architecture of each model, for tables. */
export const architecture: Readonly<Record<ModelName, string>> = {
  mlp: "MLP 784-512-256-10 (ReLU)",
  cnn: "CNN conv32-pool-conv64-pool-dense128-dense10 (3x3 valid, ReLU)",
  "cnn-bn": "CNN conv32-BN-pool-conv64-BN-pool-dense128-dense10",
};

const glorot = (seed: number) => tf.initializers.glorotUniform({ seed });

/**
 * Builds one of the models on 28x28x1 inputs, outputting logits (10 classes). Initializers are
 * Glorot-uniform seeded by `seed + layer index`, biases zero. The caller owns the model.
 *
 * @example
 * const model = buildModel("cnn", 0); // ... model.dispose();
 */
export const buildModel = (name: ModelName, seed: number): tf.Sequential => {
  let k = 0;
  const init = () => glorot(seed * 97 + k++);
  if (name === "mlp") {
    return tf.sequential({
      name: "mlp",
      layers: [
        tf.layers.flatten({ name: "flatten", inputShape: [28, 28, 1] }),
        tf.layers.dense({ name: "fc1", units: 512, activation: "relu", kernelInitializer: init() }),
        tf.layers.dense({ name: "fc2", units: 256, activation: "relu", kernelInitializer: init() }),
        tf.layers.dense({ name: "fc3", units: 10, kernelInitializer: init() }),
      ],
    });
  }
  const bn = name === "cnn-bn";
  const layers: tf.layers.Layer[] = [
    tf.layers.conv2d({
      name: "conv1",
      inputShape: [28, 28, 1],
      filters: 32,
      kernelSize: 3,
      activation: bn ? "linear" : "relu",
      kernelInitializer: init(),
    }),
  ];
  if (bn)
    layers.push(tf.layers.batchNormalization({ name: "bn1" }), tf.layers.reLU({ name: "relu1" }));
  layers.push(
    tf.layers.maxPooling2d({ name: "pool1", poolSize: 2 }),
    tf.layers.conv2d({
      name: "conv2",
      filters: 64,
      kernelSize: 3,
      activation: bn ? "linear" : "relu",
      kernelInitializer: init(),
    }),
  );
  if (bn)
    layers.push(tf.layers.batchNormalization({ name: "bn2" }), tf.layers.reLU({ name: "relu2" }));
  layers.push(
    tf.layers.maxPooling2d({ name: "pool2", poolSize: 2 }),
    tf.layers.flatten({ name: "flatten" }),
    tf.layers.dense({ name: "fc1", units: 128, activation: "relu", kernelInitializer: init() }),
    tf.layers.dense({ name: "fc2", units: 10, kernelInitializer: init() }),
  );
  return tf.sequential({ name, layers });
};

/** Number of trainable parameters of a model. */
export const parameterCount = (model: tf.LayersModel): number =>
  model.trainableWeights.reduce((n, w) => n + tf.util.sizeFromShape(w.shape as number[]), 0);
