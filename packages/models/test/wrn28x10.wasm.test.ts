/**
 * WideResNet-28-10 (36.5 M parameters) in its own file: one SGD step on a batch of 2 takes about
 * 11 s on wasm with 2 cores, so vitest runs it beside the other files. Same checks as
 * train.wasm.test.ts and init.test.ts: logits, a training step, seeds, init, no leaks.
 */
import * as tf from "@tensorflow/tfjs";
import { initWasmTraining } from "@wider/backend";
import { beforeAll, describe, expect, it } from "vitest";
import { hasBatchNorm, wideResNet28x10 } from "../src/index.js";
import { trainStep } from "./trainStep.js";

beforeAll(async () => {
  await initWasmTraining();
});

const bits = (w: tf.LayerVariable): Buffer => {
  const a = w.read().dataSync() as Float32Array;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
};

describe("wrn28x10", () => {
  it("gives logits [2, 100] and takes one training step", async () => {
    const start = tf.memory().numTensors;
    const model = wideResNet28x10({ classes: 100 });
    const r = await trainStep(model);
    expect(r.logitsShape).toEqual([2, 100]);
    expect(r.logitsFinite && r.gradsFinite && Number.isFinite(r.loss)).toBe(true);
    expect(r.gradCount).toBe(model.trainableWeights.length);
    expect(r.moved).toBeGreaterThan(0);
    expect(r.bnMoved).toBe(true);
    expect(hasBatchNorm(model)).toBe(true);
    model.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it("repeats with its seed, differs across seeds, PyTorch default conv init, final BN momentum 0.9", () => {
    const start = tf.memory().numTensors;
    const a = wideResNet28x10({ seed: 4 });
    const b = wideResNet28x10({ seed: 4 });
    const c = wideResNet28x10({ seed: 5, dropout: 0.3 });
    a.weights.forEach((w, i) => {
      expect(bits(w).equals(bits(b.weights[i]!)), w.originalName).toBe(true);
      const random = !/bn/.test(w.originalName);
      expect(bits(w).equals(bits(c.weights[i]!)), w.originalName).toBe(!random);
    });
    // conv1 of stage 3 block 2: 640 in, 3x3: kernel and bias U(+-1/sqrt(5760)).
    // float32 storage may round a draw up to float32(bound).
    const bound = Math.fround(1 / Math.sqrt(640 * 9));
    for (const name of ["stage3_block2_conv1/kernel", "stage3_block2_conv1/bias"]) {
      const v = a.weights
        .find((w) => w.originalName === name)!
        .read()
        .dataSync();
      expect(v.every((x) => Math.abs(x) <= bound)).toBe(true);
      expect(v.some((x) => Math.abs(x) > 0.99 * bound)).toBe(true);
    }
    expect(a.getLayer("final_bn").getConfig().momentum).toBeCloseTo(0.1, 12);
    expect(a.getLayer("stage1_block1_bn1").getConfig().momentum).toBeCloseTo(0.9, 12);
    expect(c.getLayer("stage2_block3_dropout").getConfig().rate).toBe(0.3);
    expect(a.layers.some((l) => l.getClassName() === "Dropout")).toBe(false);
    for (const m of [a, b, c]) m.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });
});
