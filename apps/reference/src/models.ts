/**
 * The model zoo: an MLP, a small CNN, a small VGG-style net and a small pre-activation ResNet with
 * BatchNormalization. Every layer has an explicit name and a seeded initializer, so that weights
 * move between two instances by name (`@wider/weights` keys them by variable name) and two runs
 * with the same seed start from the same point. Models output logits (no softmax).
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import type { Config } from "./config.js";

/** What a model needs to know about the data. */
export interface ModelShape {
  /** `[height, width, channels]`. */
  readonly imageShape: readonly [number, number, number];
  /** Number of classes. */
  readonly classes: number;
}

/**
 * Seeded initializers: layer `i` gets `seed * 1000 + i + 1`, so layers differ but runs repeat.
 * (Never 0: tfjs treats a seed of 0 as "no seed" and draws from `Math.random`.)
 */
class Seeds {
  private next = 0;
  constructor(private readonly seed: number) {}
  /** He-normal (ReLU layers). */
  he(): ReturnType<typeof tfl.initializers.heNormal> {
    return tfl.initializers.heNormal({ seed: this.seed * 1000 + ++this.next });
  }
  /** Glorot-uniform (the output layer). */
  glorot(): ReturnType<typeof tfl.initializers.glorotUniform> {
    return tfl.initializers.glorotUniform({ seed: this.seed * 1000 + ++this.next });
  }
}

const mlp = (s: ModelShape, seeds: Seeds): tfl.LayersModel =>
  tfl.sequential({
    name: "mlp",
    layers: [
      tfl.layers.flatten({ name: "flatten", inputShape: [...s.imageShape] }),
      tfl.layers.dense({
        name: "fc1",
        units: 256,
        activation: "relu",
        kernelInitializer: seeds.he(),
      }),
      tfl.layers.dense({
        name: "fc2",
        units: 128,
        activation: "relu",
        kernelInitializer: seeds.he(),
      }),
      tfl.layers.dense({ name: "logits", units: s.classes, kernelInitializer: seeds.glorot() }),
    ],
  });

const cnn = (s: ModelShape, seeds: Seeds): tfl.LayersModel =>
  tfl.sequential({
    name: "cnn",
    layers: [
      tfl.layers.conv2d({
        name: "conv1",
        inputShape: [...s.imageShape],
        filters: 32,
        kernelSize: 3,
        activation: "relu",
        kernelInitializer: seeds.he(),
      }),
      tfl.layers.maxPooling2d({ name: "pool1", poolSize: 2 }),
      tfl.layers.conv2d({
        name: "conv2",
        filters: 64,
        kernelSize: 3,
        activation: "relu",
        kernelInitializer: seeds.he(),
      }),
      tfl.layers.maxPooling2d({ name: "pool2", poolSize: 2 }),
      tfl.layers.flatten({ name: "flatten" }),
      tfl.layers.dense({
        name: "fc1",
        units: 128,
        activation: "relu",
        kernelInitializer: seeds.he(),
      }),
      tfl.layers.dense({ name: "logits", units: s.classes, kernelInitializer: seeds.glorot() }),
    ],
  });

/** A VGG-style stack (3x3 convs, `same` padding, max-pooling), without BatchNorm as the authors' VGG-16. */
const vgg = (s: ModelShape, seeds: Seeds): tfl.LayersModel => {
  const layers: tfl.layers.Layer[] = [];
  const blocks: ReadonlyArray<readonly number[]> = [[16, 16], [32, 32], [64]];
  blocks.forEach((filters, b) => {
    filters.forEach((f, i) => {
      layers.push(
        tfl.layers.conv2d({
          name: `block${b + 1}_conv${i + 1}`,
          ...(layers.length === 0 ? { inputShape: [...s.imageShape] } : {}),
          filters: f,
          kernelSize: 3,
          padding: "same",
          activation: "relu",
          kernelInitializer: seeds.he(),
        }),
      );
    });
    layers.push(tfl.layers.maxPooling2d({ name: `block${b + 1}_pool`, poolSize: 2 }));
  });
  layers.push(tfl.layers.flatten({ name: "flatten" }));
  layers.push(
    tfl.layers.dense({ name: "fc1", units: 64, activation: "relu", kernelInitializer: seeds.he() }),
  );
  layers.push(
    tfl.layers.dense({ name: "logits", units: s.classes, kernelInitializer: seeds.glorot() }),
  );
  return tfl.sequential({ name: "vgg", layers });
};

/** A pre-activation ResNet (He et al. 2016): BN-ReLU-conv twice per block, identity shortcuts. */
const preresnet = (s: ModelShape, seeds: Seeds): tfl.LayersModel => {
  const input = tfl.input({ shape: [...s.imageShape], name: "image" });
  const conv = (name: string, filters: number, kernel: number, strides: number) =>
    tfl.layers.conv2d({
      name,
      filters,
      kernelSize: kernel,
      strides,
      padding: "same",
      useBias: false,
      kernelInitializer: seeds.he(),
    });
  const bn = (name: string) => tfl.layers.batchNormalization({ name, momentum: 0.9 });
  const relu = (name: string) => tfl.layers.activation({ name, activation: "relu" });
  let x = conv("stem_conv", 16, 3, 1).apply(input) as tfl.SymbolicTensor;
  const stages: ReadonlyArray<readonly [number, number]> = [
    [16, 1],
    [32, 2],
    [64, 2],
  ];
  stages.forEach(([filters, stride], k) => {
    const p = `stage${k + 1}`;
    const pre = relu(`${p}_relu1`).apply(bn(`${p}_bn1`).apply(x)) as tfl.SymbolicTensor;
    const shortcut =
      stride === 1 && k === 0
        ? x
        : (conv(`${p}_shortcut`, filters, 1, stride).apply(pre) as tfl.SymbolicTensor);
    let y = conv(`${p}_conv1`, filters, 3, stride).apply(pre) as tfl.SymbolicTensor;
    y = relu(`${p}_relu2`).apply(bn(`${p}_bn2`).apply(y)) as tfl.SymbolicTensor;
    y = conv(`${p}_conv2`, filters, 3, 1).apply(y) as tfl.SymbolicTensor;
    x = tfl.layers.add({ name: `${p}_add` }).apply([y, shortcut]) as tfl.SymbolicTensor;
  });
  x = relu("final_relu").apply(bn("final_bn").apply(x)) as tfl.SymbolicTensor;
  x = tfl.layers.globalAveragePooling2d({ name: "pool" }).apply(x) as tfl.SymbolicTensor;
  const logits = tfl.layers
    .dense({ name: "logits", units: s.classes, kernelInitializer: seeds.glorot() })
    .apply(x) as tfl.SymbolicTensor;
  return tfl.model({ name: "preresnet", inputs: input, outputs: logits });
};

const builders: Record<Config["model"], (s: ModelShape, seeds: Seeds) => tfl.LayersModel> = {
  mlp,
  cnn,
  vgg,
  preresnet,
};

/**
 * Builds a model of the zoo with seeded initial weights; same name and seed, same weights.
 *
 * @example
 * const m = buildModel("mlp", { imageShape: [28, 28, 1], classes: 10 }, 0);
 */
export const buildModel = (
  name: Config["model"],
  shape: ModelShape,
  seed: number,
): tfl.LayersModel => builders[name](shape, new Seeds(seed));

/** Number of scalar parameters (trainable and not). */
export const parameterCount = (model: tfl.LayersModel): number =>
  model.weights.reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);

/** Whether the model has BatchNormalization layers (then SWA needs BN re-estimation). */
export const hasBatchNorm = (model: tfl.LayersModel): boolean =>
  model.layers.some((l) => l.getClassName() === "BatchNormalization");

/** Logits of `x` in inference mode; the caller owns the result. */
export const logits = (model: tfl.LayersModel, x: tf.Tensor): tf.Tensor =>
  model.apply(x, { training: false }) as tf.Tensor;
