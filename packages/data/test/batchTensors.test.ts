import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { planBatches } from "../src/batchPlan.js";
import {
  batches,
  defaultAugmentation,
  forEachBatch,
  noAugmentation,
  toBatchTensors,
} from "../src/batchTensors.js";
import { deriveSeed } from "../src/random.js";
import type { ImageShape, Split } from "../src/split.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

/** A split of `count` images whose pixels are a hash of (image, position). */
const syntheticSplit = (count: number, shape: ImageShape, numClasses = 10): Split => {
  const pixels = shape[0] * shape[1] * shape[2];
  const images = new Uint8Array(count * pixels);
  for (let i = 0; i < images.length; i++) images[i] = (i * 2654435761) >>> 24;
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) labels[i] = (i * 7) % numClasses;
  return { images, labels, count, imageShape: shape, numClasses };
};

/** Naive oracle: pad image by p with zeros, crop at (top, left), maybe flip; HWC numbers. */
const padCropFlip = (
  image: Uint8Array,
  [h, w, c]: ImageShape,
  p: number,
  top: number,
  left: number,
  flip: boolean,
): number[] => {
  const padded: number[][][] = [];
  for (let y = 0; y < h + 2 * p; y++) {
    const row: number[][] = [];
    for (let x = 0; x < w + 2 * p; x++) {
      const inside = y >= p && y < h + p && x >= p && x < w + p;
      const pix: number[] = [];
      for (let ch = 0; ch < c; ch++) {
        pix.push(inside ? (image[((y - p) * w + (x - p)) * c + ch] ?? 0) : 0);
      }
      row.push(pix);
    }
    padded.push(row);
  }
  const out: number[] = [];
  for (let y = 0; y < h; y++) {
    const cropped = padded[y + top]!.slice(left, left + w);
    if (flip) cropped.reverse();
    for (const pix of cropped) out.push(...pix);
  }
  return out;
};

describe("toBatchTensors", () => {
  const split = syntheticSplit(20, [28, 28, 1]);

  it("builds float32 [b, h, w, c] images in [0, 1] and one-hot labels", () => {
    const indices = [3, 0, 17];
    const { xs, ys, size } = toBatchTensors(split, indices);
    expect(size).toBe(3);
    expect(xs.shape).toEqual([3, 28, 28, 1]);
    expect(xs.dtype).toBe("float32");
    expect(ys.shape).toEqual([3, 10]);
    const x = xs.dataSync();
    for (const [k, i] of indices.entries()) {
      for (let p = 0; p < 784; p++) {
        expect(x[k * 784 + p]).toBeCloseTo((split.images[i * 784 + p] ?? 0) / 255, 6);
      }
    }
    const y = ys.arraySync() as number[][];
    indices.forEach((i, k) => {
      const label = split.labels[i] ?? 0;
      expect(y[k]).toEqual([...Array(10).keys()].map((c) => (c === label ? 1 : 0)));
    });
    xs.dispose();
    ys.dispose();
  });

  it("standardises with channel statistics and keeps raw values on request", () => {
    const stats = { mean: [0.25], std: [0.5] };
    const standardised = toBatchTensors(split, [5], { normalize: stats, oneHot: false });
    const raw = toBatchTensors(split, [5], { normalize: "raw" });
    const s = standardised.xs.dataSync();
    const r = raw.xs.dataSync();
    for (let p = 0; p < 784; p++) {
      const v = split.images[5 * 784 + p] ?? 0;
      expect(r[p]).toBe(v);
      expect(s[p]).toBeCloseTo((v / 255 - 0.25) / 0.5, 5);
    }
    expect(standardised.ys.dtype).toBe("int32");
    expect(Array.from(standardised.ys.dataSync())).toEqual([split.labels[5]]);
    for (const t of [standardised.xs, standardised.ys, raw.xs, raw.ys]) t.dispose();
    expect(() => toBatchTensors(split, [0], { normalize: { mean: [0], std: [0] } })).toThrow(/std/);
  });

  it("refuses an index outside the split", () => {
    expect(() => toBatchTensors(split, [20])).toThrow(/index 20 is outside 0..19/);
  });
});

describe("augmentation", () => {
  const shape: ImageShape = [32, 32, 3];
  const split = syntheticSplit(40, shape);
  const indices = [...Array(40).keys()];

  it("is crop with padding 4 and flip for 32x32, none for 28x28", () => {
    expect(defaultAugmentation([32, 32, 3])).toEqual({ cropPadding: 4, horizontalFlip: true });
    expect(defaultAugmentation([28, 28, 1])).toEqual(noAugmentation);
  });

  it("gives each image as some padded crop, maybe flipped, of the original (naive oracle)", () => {
    const { xs, ys } = toBatchTensors(split, indices, {
      normalize: "raw",
      augment: "default",
      seed: 11,
    });
    const x = xs.dataSync();
    const seen = new Set<string>();
    for (const i of indices) {
      const got = Array.from(x.subarray(i * 3072, (i + 1) * 3072));
      const image = split.images.subarray(i * 3072, (i + 1) * 3072);
      const matches: string[] = [];
      for (let top = 0; top <= 8; top++)
        for (let left = 0; left <= 8; left++)
          for (const flip of [false, true]) {
            const want = padCropFlip(image, shape, 4, top, left, flip);
            if (want.every((v, p) => v === got[p])) matches.push(`${top},${left},${flip}`);
          }
      expect(matches.length).toBeGreaterThan(0);
      for (const m of matches) seen.add(m);
    }
    // Over 40 images, the draws vary: both flips and many offsets occur.
    expect([...seen].some((m) => m.endsWith("true"))).toBe(true);
    expect([...seen].some((m) => m.endsWith("false"))).toBe(true);
    expect(seen.size).toBeGreaterThan(20);
    xs.dispose();
    ys.dispose();
  });

  it("is reproducible from the seed and changes with it; none by default", () => {
    const run = (options: Parameters<typeof toBatchTensors>[2]) => {
      const { xs, ys } = toBatchTensors(split, indices, options);
      const data = xs.dataSync().slice();
      xs.dispose();
      ys.dispose();
      return data;
    };
    const a = run({ augment: "default", seed: 5 });
    expect(run({ augment: "default", seed: 5 })).toEqual(a);
    expect(run({ augment: "default", seed: 6 })).not.toEqual(a);
    const plain = run({});
    expect(plain).toEqual(run({ augment: noAugmentation, seed: 5 }));
    expect(Array.from(plain.subarray(0, 3072))).toEqual(
      Array.from(split.images.subarray(0, 3072), (v) => Math.fround(v / 255)),
    );
  });
});

describe("batches and forEachBatch", () => {
  const split = syntheticSplit(300, [28, 28, 1]);
  const plan = planBatches({ count: split.count, batchSize: 64, seed: 1 });

  it("yields the plan's batches, batch j augmented with deriveSeed(seed, j)", () => {
    const cifarLike = syntheticSplit(10, [32, 32, 3]);
    const small = planBatches({ count: 10, batchSize: 4, seed: 2 });
    let j = 0;
    for (const batch of batches(cifarLike, small, { augment: "default", seed: 9 })) {
      const direct = toBatchTensors(cifarLike, small[j]!, {
        augment: "default",
        seed: deriveSeed(9, j),
      });
      expect(batch.xs.dataSync()).toEqual(direct.xs.dataSync());
      expect(batch.ys.dataSync()).toEqual(direct.ys.dataSync());
      for (const t of [batch.xs, batch.ys, direct.xs, direct.ys]) t.dispose();
      j++;
    }
    expect(j).toBe(3);
  });

  it("leaks no tensor over an epoch (generator, caller disposes)", () => {
    const before = tf.memory().numTensors;
    let seen = 0;
    for (const batch of batches(split, plan, { normalize: { mean: [0.5], std: [0.25] } })) {
      seen += batch.size;
      expect(tf.memory().numTensors).toBe(before + 2); // only the current batch exists
      batch.xs.dispose();
      batch.ys.dispose();
    }
    expect(seen).toBe(300);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("leaks no tensor over an epoch (forEachBatch disposes, even when the callback throws)", async () => {
    const before = tf.memory().numTensors;
    const sizes: number[] = [];
    await forEachBatch(split, plan, {}, async (batch, index) => {
      await Promise.resolve();
      sizes[index] = batch.size;
      tf.tidy(() => {
        batch.xs.mean(); // work on the batch
      });
    });
    expect(sizes).toEqual([64, 64, 64, 64, 44]);
    expect(tf.memory().numTensors).toBe(before);
    await expect(
      forEachBatch(split, plan, {}, () => {
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(tf.memory().numTensors).toBe(before);
  });
});
