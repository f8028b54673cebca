/**
 * Initialisation: the seed scheme (`seed * 1000 + i`, reproduced here by hand as the reference
 * app wrote it), same seed -> identical weights, different seeds -> different weights, and the
 * paper models' init distributions against their closed forms (PyTorch's, see src/seeds.ts).
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import {
  buildModel,
  cnn,
  type ModelSpec,
  mlp,
  preresnet110,
  vgg16,
  vgg16bn,
} from "../src/index.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const weightsByName = (model: tf.LayersModel): Map<string, Float32Array> =>
  new Map(model.weights.map((w) => [w.originalName, w.read().dataSync() as Float32Array]));

/** Bitwise equality of two float arrays (vitest's deep toEqual is far too slow for millions). */
const sameBits = (a: Float32Array, b: Float32Array | undefined): boolean =>
  b !== undefined &&
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );

const build = (spec: ModelSpec): tf.LayersModel => {
  const m = buildModel(spec);
  if (m._tag === "Left") throw new Error(m.left.message);
  return m.right;
};

// WRN-28-10 is checked in wrn28x10.wasm.test.ts.
const specs: ModelSpec[] = [
  { kind: "mlp" },
  { kind: "cnn", batchNorm: true },
  { kind: "vgg" },
  { kind: "preresnet", blocksPerStage: 2 },
  { kind: "vgg16bn" },
  { kind: "preresnet164" },
];

describe("seeds", () => {
  it.each(specs.map((s) => [s.kind, s] as const))(
    "%s: same seed gives identical weights, another seed different ones",
    (_, spec) => {
      const start = tf.memory().numTensors;
      const a = build({ ...spec, seed: 11 });
      const b = build({ ...spec, seed: 11 });
      const c = build({ ...spec, seed: 12 });
      const [wa, wb, wc] = [a, b, c].map(weightsByName);
      expect([...wb!.keys()]).toEqual([...wa!.keys()]);
      let random = 0;
      for (const [name, va] of wa!) {
        expect(sameBits(va, wb!.get(name)), `${name} must repeat with the seed`).toBe(true);
        const vc = wc!.get(name)!;
        const constant = va.every((v) => v === va[0]);
        if (constant) expect(sameBits(va, vc), `${name} is a constant init`).toBe(true);
        else {
          random++;
          expect(
            vc.some((v, i) => v !== va[i]),
            `${name} must differ across seeds`,
          ).toBe(true);
        }
      }
      expect(random).toBeGreaterThan(0);
      for (const m of [a, b, c]) m.dispose();
      expect(tf.memory().numTensors).toBe(start);
    },
  );

  it("keeps the reference app's scheme: layer i gets seed * 1000 + i, He-normal then Glorot", () => {
    const seed = 5;
    const ours = mlp({ hidden: [256, 128], seed });
    const byHand = tf.sequential({
      layers: [
        tf.layers.flatten({ inputShape: [28, 28, 1] }),
        tf.layers.dense({
          units: 256,
          activation: "relu",
          kernelInitializer: tf.initializers.heNormal({ seed: seed * 1000 + 1 }),
        }),
        tf.layers.dense({
          units: 128,
          activation: "relu",
          kernelInitializer: tf.initializers.heNormal({ seed: seed * 1000 + 2 }),
        }),
        tf.layers.dense({
          units: 10,
          kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 1000 + 3 }),
        }),
      ],
    });
    expect(ours.layers.map((l) => l.name)).toEqual(["flatten", "fc1", "fc2", "logits"]);
    ours.weights.forEach((w, i) => {
      const theirs = byHand.weights[i]!.read().dataSync() as Float32Array;
      expect(sameBits(w.read().dataSync() as Float32Array, theirs), w.originalName).toBe(true);
    });
    ours.dispose();
    byHand.dispose();
  });

  it("seed 0 is seeded too (no initializer gets tfjs' 'unseeded' 0)", () => {
    const a = cnn({ seed: 0 });
    const b = cnn({ seed: 0 });
    a.weights.forEach((w, i) => {
      const other = b.weights[i]!.read().dataSync() as Float32Array;
      expect(sameBits(w.read().dataSync() as Float32Array, other), w.originalName).toBe(true);
    });
    a.dispose();
    b.dispose();
  });
});

/** Mean, standard deviation and largest |value| of a sample. */
const moments = (v: Float32Array) => {
  let s = 0;
  let s2 = 0;
  let max = 0;
  for (const x of v) {
    s += x;
    s2 += x * x;
    max = Math.max(max, Math.abs(x));
  }
  const mean = s / v.length;
  return { mean, std: Math.sqrt(s2 / v.length - mean * mean), max };
};

const weight = (model: tf.LayersModel, name: string): Float32Array => {
  const w = model.weights.find((x) => x.originalName === name);
  if (w === undefined) throw new Error(`no weight ${name}`);
  return w.read().dataSync() as Float32Array;
};

describe("paper init matches PyTorch's closed forms", () => {
  it("VGG-16: conv N(0, 2/(9 out)) untruncated, conv bias 0, dense U(+-1/sqrt(fanIn)) kernel and bias", () => {
    const model = vgg16();
    // 3x3x512x512 = 2.36 M draws: the sample std is within 0.2 % of sigma (5 standard errors).
    const k = moments(weight(model, "block5_conv3/kernel"));
    const sigma = Math.sqrt(2 / (9 * 512));
    expect(Math.abs(k.mean)).toBeLessThan(5 * (sigma / Math.sqrt(2.36e6)));
    expect(Math.abs(k.std / sigma - 1)).toBeLessThan(0.003);
    // Untruncated: tfjs' heNormal would cut at 2 sigma; 2.36 M normal draws reach beyond 4.5 sigma.
    expect(k.max).toBeGreaterThan(4.5 * sigma);
    expect(weight(model, "block5_conv3/bias").every((v) => v === 0)).toBe(true);
    for (const [name, fanIn] of [
      ["fc1", 512],
      ["fc2", 512],
      ["logits", 512],
    ] as const) {
      const bound = Math.fround(1 / Math.sqrt(fanIn)); // float32 storage may round up to it
      const kw = moments(weight(model, `${name}/kernel`));
      const kb = moments(weight(model, `${name}/bias`));
      expect(kw.max).toBeLessThanOrEqual(bound);
      expect(kb.max).toBeLessThanOrEqual(bound);
      expect(kb.max).toBeGreaterThan(0);
      if (name !== "logits") {
        // U(-b, b) has std b / sqrt(3); 262 k draws put the sample within 0.6 %.
        expect(Math.abs(kw.std / (bound / Math.sqrt(3)) - 1)).toBeLessThan(0.006);
        expect(kw.max).toBeGreaterThan(0.999 * bound);
      }
    }
    model.dispose();
  });

  it("VGG-16-BN and PreResNet-110: BN gamma 1, beta 0, moving mean 0, variance 1, epsilon 1e-5, momentum 0.1", () => {
    for (const model of [vgg16bn(), preresnet110()]) {
      const bns = model.layers.filter((l) => l.getClassName() === "BatchNormalization");
      expect(bns.length).toBeGreaterThan(0);
      for (const bn of bns) {
        const cfg = bn.getConfig();
        expect(cfg.epsilon).toBe(1e-5);
        expect(cfg.momentum).toBeCloseTo(0.9, 12);
        const [gamma, beta, mean, variance] = bn.getWeights().map((w) => w.dataSync());
        expect(gamma!.every((v) => v === 1) && variance!.every((v) => v === 1)).toBe(true);
        expect(beta!.every((v) => v === 0) && mean!.every((v) => v === 0)).toBe(true);
      }
      model.dispose();
    }
  });

  it("PreResNet-110: bottleneck convs without bias, N(0, 2/(k k out)); strided 3x3 convs padded symmetrically", () => {
    const model = preresnet110();
    const convs = model.layers.filter((l) => l.getClassName() === "Conv2D");
    expect(convs.every((l) => l.getConfig().useBias === false)).toBe(true);
    const k = moments(weight(model, "stage3_block5_conv3/kernel")); // 1x1x64x256
    const sigma = Math.sqrt(2 / 256);
    expect(Math.abs(k.std / sigma - 1)).toBeLessThan(0.02);
    const pad = model.getLayer("stage2_block1_conv2_pad");
    expect(pad.getConfig().padding).toEqual([
      [1, 1],
      [1, 1],
    ]);
    expect(model.getLayer("stage2_block1_conv2").getConfig().padding).toBe("valid");
    expect(model.getLayer("stage2_block1_conv2").getConfig().strides).toEqual([2, 2]);
    model.dispose();
  });
});
