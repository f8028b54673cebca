/**
 * End to end: small models of every layer type train for a few steps to the same weights
 * on wasm (with the training kernels) and cpu; and a tiny model trains 1,000 steps on wasm
 * without tensor or wasm-heap growth.
 * Tolerance for losses and weights after 3 steps: |wasm - cpu| <= 1e-4 * max|cpu| + 1e-5 per
 * weight tensor (the kernel tolerance; float32 summation orders differ between backends).
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initWasmTraining, wasmHeapBytes } from "../src/index.js";
import { expectClose, normals, rng } from "./helpers.js";

beforeAll(async () => {
  await initWasmTraining();
});

interface Spec {
  readonly name: string;
  readonly input: number[];
  readonly build: () => tf.LayersModel;
  readonly optimizer: () => tf.Optimizer;
  readonly loss: string;
  readonly classes: number;
  readonly integerInput?: number;
}

const seeded = (seed: number) => tf.initializers.glorotUniform({ seed });

const specs: Spec[] = [
  {
    name: "mlp dense+activations, sgd",
    input: [12],
    build: () =>
      tf.sequential({
        layers: [
          tf.layers.dense({
            inputShape: [12],
            units: 16,
            activation: "relu",
            kernelInitializer: seeded(1),
          }),
          tf.layers.dense({ units: 10, activation: "tanh", kernelInitializer: seeded(2) }),
          tf.layers.dense({ units: 8, activation: "sigmoid", kernelInitializer: seeded(3) }),
          tf.layers.dense({ units: 8, activation: "elu", kernelInitializer: seeded(4) }),
          tf.layers.leakyReLU({ alpha: 0.1 }),
          tf.layers.dense({ units: 4, activation: "softmax", kernelInitializer: seeded(5) }),
        ],
      }),
    optimizer: () => tf.train.sgd(0.1),
    loss: "categoricalCrossentropy",
    classes: 4,
  },
  {
    name: "cnn conv2d strides 1-3, same/valid, max+avg pooling, momentum",
    input: [11, 9, 2],
    build: () =>
      tf.sequential({
        layers: [
          tf.layers.conv2d({
            inputShape: [11, 9, 2],
            filters: 4,
            kernelSize: 3,
            padding: "same",
            activation: "relu",
            kernelInitializer: seeded(6),
          }),
          tf.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: "same" }),
          tf.layers.conv2d({
            filters: 5,
            kernelSize: 2,
            strides: 2,
            padding: "valid",
            activation: "elu",
            kernelInitializer: seeded(7),
          }),
          tf.layers.conv2d({
            filters: 3,
            kernelSize: 1,
            strides: 3,
            padding: "same",
            kernelInitializer: seeded(8),
          }),
          tf.layers.averagePooling2d({ poolSize: 1, padding: "valid" }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 3, activation: "softmax", kernelInitializer: seeded(9) }),
        ],
      }),
    optimizer: () => tf.train.momentum(0.05, 0.9),
    loss: "categoricalCrossentropy",
    classes: 3,
  },
  {
    name: "cnn stride 3, max/avg pooling 3x3 stride 2, adam",
    input: [13, 13, 1],
    build: () =>
      tf.sequential({
        layers: [
          tf.layers.conv2d({
            inputShape: [13, 13, 1],
            filters: 4,
            kernelSize: 3,
            strides: 1,
            padding: "valid",
            activation: "relu",
            kernelInitializer: seeded(10),
          }),
          tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: "valid" }),
          tf.layers.conv2d({
            filters: 4,
            kernelSize: 3,
            strides: 3,
            padding: "same",
            kernelInitializer: seeded(11),
          }),
          tf.layers.averagePooling2d({ poolSize: 2, strides: 1, padding: "same" }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 3, activation: "softmax", kernelInitializer: seeded(12) }),
        ],
      }),
    optimizer: () => tf.train.adam(0.01),
    loss: "categoricalCrossentropy",
    classes: 3,
  },
  {
    name: "depthwise + separable conv, global pooling, adam",
    input: [10, 10, 3],
    build: () =>
      tf.sequential({
        layers: [
          tf.layers.depthwiseConv2d({
            inputShape: [10, 10, 3],
            kernelSize: 3,
            depthMultiplier: 2,
            strides: 2,
            padding: "same",
            depthwiseInitializer: seeded(13),
          }),
          tf.layers.separableConv2d({
            filters: 4,
            kernelSize: 3,
            padding: "valid",
            activation: "relu",
            depthwiseInitializer: seeded(14),
            pointwiseInitializer: seeded(15),
          }),
          tf.layers.globalAveragePooling2d({}),
          tf.layers.dense({ units: 3, activation: "softmax", kernelInitializer: seeded(16) }),
        ],
      }),
    optimizer: () => tf.train.adam(0.01),
    loss: "categoricalCrossentropy",
    classes: 3,
  },
  {
    // No bias before batch norm: its exact gradient is 0, and Adam would amplify the
    // float32 noise in it to steps of size lr with backend-dependent signs.
    name: "batch normalization + dropout (seeded), adam",
    input: [8, 8, 2],
    build: () =>
      tf.sequential({
        layers: [
          tf.layers.conv2d({
            inputShape: [8, 8, 2],
            filters: 4,
            kernelSize: 3,
            padding: "same",
            useBias: false,
            kernelInitializer: seeded(17),
          }),
          tf.layers.batchNormalization({}),
          tf.layers.activation({ activation: "relu" }),
          tf.layers.maxPooling2d({ poolSize: 2 }),
          tf.layers.flatten(),
          tf.layers.dropout({ rate: 0.3, seed: 7 }),
          tf.layers.dense({ units: 6, useBias: false, kernelInitializer: seeded(18) }),
          tf.layers.batchNormalization({}),
          tf.layers.dense({ units: 3, activation: "softmax", kernelInitializer: seeded(19) }),
        ],
      }),
    optimizer: () => tf.train.adam(0.01),
    loss: "categoricalCrossentropy",
    classes: 3,
  },
  {
    name: "embedding, binary cross-entropy, adam",
    input: [6],
    integerInput: 20,
    build: () =>
      tf.sequential({
        layers: [
          tf.layers.embedding({
            inputDim: 20,
            outputDim: 5,
            inputLength: 6,
            embeddingsInitializer: seeded(20),
          }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 1, activation: "sigmoid", kernelInitializer: seeded(21) }),
        ],
      }),
    optimizer: () => tf.train.adam(0.05),
    loss: "binaryCrossentropy",
    classes: 1,
  },
];

/** Trains `spec` for `steps` batches on `backend` from `initial` weights; returns the final weights. */
async function trainOn(
  backend: string,
  spec: Spec,
  initial: Float32Array[] | undefined,
  steps: number,
): Promise<{ weights: Float32Array[]; shapes: number[][]; losses: number[] }> {
  tf.setBackend(backend);
  const model = spec.build();
  model.compile({ optimizer: spec.optimizer(), loss: spec.loss });
  if (initial !== undefined) {
    model.setWeights(
      model.getWeights().map((w, i) => tf.tensor(initial[i] as Float32Array, w.shape)),
    );
  }
  const r = rng(99);
  const batch = 5;
  const inSize = spec.input.reduce((a, b) => a * b, 1);
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const xValues =
      spec.integerInput !== undefined
        ? Float32Array.from({ length: batch * inSize }, () =>
            Math.floor(r() * (spec.integerInput as number)),
          )
        : normals(r, batch * inSize);
    const labels = Array.from({ length: batch }, () => Math.floor(r() * Math.max(2, spec.classes)));
    const [x, y] = tf.tidy(() => [
      tf.tensor(xValues, [batch, ...spec.input]),
      spec.classes === 1
        ? tf.tensor2d(labels, [batch, 1])
        : tf.oneHot(tf.tensor1d(labels, "int32"), spec.classes).toFloat(),
    ]);
    const loss = await model.trainOnBatch(x, y);
    losses.push(Array.isArray(loss) ? (loss[0] as number) : (loss as number));
    tf.dispose([x, y]);
  }
  const weights = model.getWeights().map((w) => w.dataSync() as Float32Array);
  const shapes = model.getWeights().map((w) => w.shape);
  model.dispose();
  return { weights, shapes, losses };
}

describe("training on wasm matches cpu", () => {
  it.each(specs.map((s) => [s.name, s] as const))("%s", async (_name, spec) => {
    const init = await trainOn("cpu", spec, undefined, 0);
    const cpu = await trainOn("cpu", spec, init.weights, 3);
    const wasm = await trainOn("wasm", spec, init.weights, 3);
    for (const l of wasm.losses) expect(Number.isFinite(l)).toBe(true);
    expectClose(
      { values: wasm.losses, shape: [3] },
      { values: cpu.losses, shape: [3] },
      `${spec.name} losses`,
      1e-4,
    );
    wasm.weights.forEach((w, i) => {
      const shape = wasm.shapes[i] as number[];
      expectClose(
        { values: w, shape },
        { values: cpu.weights[i] as Float32Array, shape: cpu.shapes[i] as number[] },
        `${spec.name} weight ${i}`,
        1e-4,
      );
      // The weights moved: the comparison is not between two untouched initialisations.
    });
    const moved = wasm.weights.some((w, i) =>
      w.some((v, j) => v !== (init.weights[i] as Float32Array)[j]),
    );
    expect(moved).toBe(true);
  });
});

describe("no leaks over 1,000 training steps on wasm", () => {
  it("keeps tf.memory().numTensors and the wasm heap size constant", async () => {
    tf.setBackend("wasm");
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({
          inputShape: [6, 6, 1],
          filters: 2,
          kernelSize: 3,
          strides: 1,
          padding: "same",
          activation: "relu",
        }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.depthwiseConv2d({ kernelSize: 2, padding: "valid" }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 2, activation: "softmax" }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(0.01), loss: "categoricalCrossentropy" });
    const x = tf.tensor(normals(rng(5), 4 * 36), [4, 6, 6, 1]);
    const y = tf.oneHot(tf.tensor1d([0, 1, 1, 0], "int32"), 2).toFloat();
    const step = () =>
      tf.tidy(() => {
        model.optimizer.minimize(
          () => tf.losses.softmaxCrossEntropy(y, model.apply(x) as tf.Tensor) as tf.Scalar,
        );
      });
    for (let i = 0; i < 50; i++) step();
    await model.trainOnBatch(x, y);
    const tensors = tf.memory().numTensors;
    const heap = wasmHeapBytes();
    expect(heap).toBeGreaterThan(0);
    for (let i = 0; i < 1000; i++) step();
    await model.trainOnBatch(x, y);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(wasmHeapBytes()).toBe(heap);
    model.dispose();
    tf.dispose([x, y]);
  });
});
