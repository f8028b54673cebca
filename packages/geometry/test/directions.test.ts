import * as tf from "@tensorflow/tfjs";
import { orThrow } from "@wider/errors";
import { disposeWeights, dot, flatten, norm, sub, type Weights } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import {
  filterNormalized,
  orthogonalize,
  randomDirection,
  randomFilterNormalizedDirection,
} from "../src/index.js";
import { pseudoRandom, tensorCount, weightsOf } from "./quadratic.js";

/** A conv + dense + BN-like weight set with tfjs layouts. */
const netLike = (): Weights => ({
  "conv/kernel": tf.randomNormal([3, 3, 2, 4], 0, 1, "float32", 11),
  "conv/bias": tf.randomNormal([4], 0, 1, "float32", 12),
  "dense/kernel": tf.randomNormal([6, 5], 0, 1, "float32", 13),
  "bn/gamma": tf.ones([5]),
  "bn/moving_mean": tf.randomNormal([5], 0, 1, "float32", 14),
});

/** Per-filter (last-axis) norms of a tensor, computed in JS. */
const filterNorms = (t: tf.Tensor): number[] => {
  const out = t.shape[t.rank - 1]!;
  const data = t.dataSync();
  const sums = new Array<number>(out).fill(0);
  for (let i = 0; i < data.length; i++) sums[i % out]! += data[i]! ** 2;
  return sums.map(Math.sqrt);
};

describe("randomDirection", () => {
  it("is a unit vector, deterministic per seed, different across seeds, leak-free", () => {
    const w = weightsOf(pseudoRandom(1));
    const before = tensorCount();
    const d1 = randomDirection(w, 5);
    const d2 = randomDirection(w, 5);
    const d3 = randomDirection(w, 6);
    expect(norm(d1)).toBeCloseTo(1, 5);
    expect(Array.from(flatten(d1))).toEqual(Array.from(flatten(d2)));
    expect(Math.abs(dot(d1, d3))).toBeLessThan(0.9);
    for (const d of [d1, d2, d3]) disposeWeights(d);
    expect(tensorCount()).toBe(before);
    disposeWeights(w);
  });
});

describe("filterNormalized", () => {
  it("gives every filter (last axis) the norm of the weights' filter and zeroes 1-D tensors", () => {
    const w = netLike();
    const before = tensorCount();
    const d = randomFilterNormalizedDirection(w, 3);
    for (const key of ["conv/kernel", "dense/kernel"]) {
      const got = filterNorms(d[key]!);
      const want = filterNorms(w[key]!);
      got.forEach((g, i) => {
        expect(g).toBeCloseTo(want[i]!, 4);
      });
      // The direction is not the weights themselves.
      expect(Math.abs(dot({ k: d[key]! }, { k: w[key]! }))).toBeLessThan(
        0.99 * norm({ k: d[key]! }) * norm({ k: w[key]! }),
      );
    }
    for (const key of ["conv/bias", "bn/gamma", "bn/moving_mean"]) {
      expect(Array.from(d[key]!.dataSync()).every((x) => x === 0)).toBe(true);
    }
    disposeWeights(d);
    expect(tensorCount()).toBe(before);
    disposeWeights(w);
  });

  it("refuses a direction with other shapes, naming the tensor", () => {
    const w = netLike();
    const other = { ...w, "dense/kernel": tf.zeros([5, 6]) };
    const r = filterNormalized(other, w);
    expect(E.isLeft(r) && r.left.message).toMatch(/dense\/kernel.*\[6, 5\].*\[5, 6\]/);
    other["dense/kernel"].dispose();
    disposeWeights(w);
  });
});

describe("orthogonalize", () => {
  it("removes the components along a (non-orthogonal) set and keeps the rest", () => {
    const a = weightsOf(pseudoRandom(2));
    const b = weightsOf(pseudoRandom(3));
    const c = weightsOf(pseudoRandom(4));
    const before = tensorCount();
    const d = orThrow(orthogonalize(c, [a, b, a]));
    expect(Math.abs(dot(d, a)) / norm(a)).toBeLessThan(1e-5);
    expect(Math.abs(dot(d, b)) / norm(b)).toBeLessThan(1e-5);
    // c - d lies in span(a, b): orthogonalising it again leaves ~0.
    const diff = sub(c, d);
    const rest = orThrow(orthogonalize(diff, [a, b]));
    expect(norm(rest) / norm(c)).toBeLessThan(1e-5);
    for (const w of [d, diff, rest]) disposeWeights(w);
    expect(tensorCount()).toBe(before);
    for (const w of [a, b, c]) disposeWeights(w);
  });
});
