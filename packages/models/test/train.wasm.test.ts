/**
 * On the wasm backend with @wider/backend's training kernels: every model (WRN-28-10 in
 * wrn28x10.wasm.test.ts, it takes ~11 s alone) gives finite logits of shape [2, classes] in
 * inference mode and takes one SGD step on a batch of 2 (`tf.variableGrads`): every trainable
 * weight gets a finite gradient, the loss is finite, weights move, BN moving statistics move,
 * and nothing leaks.
 */
import * as tf from "@tensorflow/tfjs";
import { initWasmTraining } from "@wider/backend";
import { beforeAll, describe, expect, it } from "vitest";
import { buildModel, hasBatchNorm, type ModelSpec } from "../src/index.js";
import { trainStep } from "./trainStep.js";

beforeAll(async () => {
  await initWasmTraining();
});

const specs: ModelSpec[] = [
  { kind: "mlp" },
  { kind: "mlp", hidden: [256, 128], classes: 100 },
  { kind: "cnn" },
  { kind: "cnn", batchNorm: true, inputShape: [32, 32, 3], classes: 100 },
  { kind: "vgg" },
  { kind: "preresnet" },
  { kind: "preresnet", inputShape: [32, 32, 3], blocksPerStage: 2 },
  { kind: "vgg16" },
  { kind: "vgg16bn", classes: 100 },
  { kind: "preresnet110" },
  { kind: "preresnet164", classes: 100 },
];

describe("forward pass and one training step on wasm", () => {
  it.each(specs.map((s) => [JSON.stringify(s), s] as const))("%s", async (_, spec) => {
    expect(tf.getBackend()).toBe("wasm");
    const start = tf.memory().numTensors;
    const built = buildModel(spec);
    if (built._tag === "Left") throw new Error(built.left.message);
    const model = built.right;
    const r = await trainStep(model);
    expect(r.logitsShape).toEqual([2, spec.classes ?? 10]);
    expect(r.logitsFinite).toBe(true);
    expect(Number.isFinite(r.loss)).toBe(true);
    expect(r.gradsFinite).toBe(true);
    expect(r.gradCount).toBe(model.trainableWeights.length);
    expect(r.moved).toBeGreaterThan(0);
    expect(r.bnMoved).toBe(hasBatchNorm(model));
    model.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });
});
