import * as tf from "@tensorflow/tfjs";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  add,
  axpy,
  clone,
  disposeWeights,
  dot,
  flatten,
  lerp,
  norm,
  numel,
  randomNormalLike,
  scale,
  sortedKeys,
  sub,
  unflatten,
  type Weights,
  zerosLike,
} from "../src/index.js";
import { expectNoLeak, sample } from "./helpers.js";

let a: Weights;
let b: Weights;
beforeEach(() => {
  a = sample(0);
  b = sample(1.5);
});
afterEach(() => {
  disposeWeights(a);
  disposeWeights(b);
});

// Oracle: the same operation on the flat float64 vectors, element by element.
const fa = () => Array.from(flatten(a));
const fb = () => Array.from(flatten(b));
const close = (got: Float32Array, want: number[]) => {
  expect(got.length).toBe(want.length);
  for (const [i, g] of got.entries()) expect(g).toBeCloseTo(want[i]!, 5);
};

describe("binary and scalar operations", () => {
  const cases: Array<[string, () => Weights, () => number[]]> = [
    ["add", () => add(a, b), () => fa().map((x, i) => x + fb()[i]!)],
    ["sub", () => sub(a, b), () => fa().map((x, i) => x - fb()[i]!)],
    ["scale", () => scale(a, -2.5), () => fa().map((x) => -2.5 * x)],
    ["lerp", () => lerp(a, b, 0.25), () => fa().map((x, i) => x + 0.25 * (fb()[i]! - x))],
    ["axpy", () => axpy(3, a, b), () => fa().map((x, i) => 3 * x + fb()[i]!)],
    ["zerosLike", () => zerosLike(a), () => fa().map(() => 0)],
    ["clone", () => clone(a), () => fa()],
  ];
  for (const [name, op, want] of cases) {
    it(`${name} matches the flat oracle, keeps keys/shapes and leaks nothing`, () => {
      expectNoLeak(() => {
        const r = op();
        expect(Object.keys(r)).toEqual(Object.keys(a));
        for (const k of Object.keys(a)) expect(r[k]!.shape).toEqual(a[k]!.shape);
        close(flatten(r), want());
        return r;
      }, disposeWeights);
    });
  }

  it("lerp at 0 and 1 gives the endpoints", () => {
    const l0 = lerp(a, b, 0);
    const l1 = lerp(a, b, 1);
    close(flatten(l0), fa());
    close(flatten(l1), fb());
    disposeWeights(l0);
    disposeWeights(l1);
  });

  it("binary operations reject different keys or shapes with a clear message", () => {
    const other = { ...a, extra: tf.scalar(1) };
    expect(() => add(a, other)).toThrow(/only in the second: \[extra\]/);
    other.extra.dispose();
    const bad = { ...a, "d1/bias": tf.zeros([4]) };
    expect(() => sub(a, bad)).toThrow(/"d1\/bias" has shape \[3\]/);
    bad["d1/bias"].dispose();
  });

  it("results are new tensors: disposing them leaves the inputs usable", () => {
    const c = clone(a);
    disposeWeights(c);
    expect(a["d1/kernel"]!.isDisposed).toBe(false);
    close(flatten(a), fa());
  });
});

describe("reductions", () => {
  it("dot, norm and numel match the flat oracle without leaking", () => {
    const before = tf.memory().numTensors;
    const want = fa().reduce((s, x, i) => s + x * fb()[i]!, 0);
    expect(dot(a, b)).toBeCloseTo(want, 4);
    expect(norm(a)).toBeCloseTo(Math.sqrt(fa().reduce((s, x) => s + x * x, 0)), 5);
    expect(numel(a)).toBe(6 + 3 + 8);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("randomNormalLike", () => {
  it("is deterministic per seed, differs across seeds and keys, and leaks nothing", () => {
    const r1 = expectNoLeak(
      () => {
        const r = randomNormalLike(a, 7);
        return { w: r, flat: flatten(r) };
      },
      (x) => disposeWeights(x.w),
    ).flat;
    const r2 = randomNormalLike(a, 7);
    const r3 = randomNormalLike(a, 8);
    expect(Array.from(flatten(r2))).toEqual(Array.from(r1));
    expect(Array.from(flatten(r3))).not.toEqual(Array.from(r1));
    // Per-key seeding: a key's values do not depend on the other keys.
    const only = randomNormalLike({ "d1/bias": a["d1/bias"]! }, 7);
    expect(Array.from(only["d1/bias"]!.dataSync())).toEqual(Array.from(r2["d1/bias"]!.dataSync()));
    expect(r2["d1/bias"]!.dtype).toBe("float32");
    for (const w of [r2, r3, only]) disposeWeights(w);
  });

  it("draws roughly standard normal values", () => {
    const big = { x: tf.zeros([20000]) };
    const r = randomNormalLike(big, 3);
    const v = Array.from(r.x!.dataSync());
    const mean = v.reduce((s, x) => s + x, 0) / v.length;
    const variance = v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
    disposeWeights(r);
    big.x.dispose();
  });
});

describe("flatten / unflatten", () => {
  it("flattens in sorted key order, row-major", () => {
    expect(sortedKeys(a)).toEqual(["c/kernel", "d1/bias", "d1/kernel"]);
    const flat = flatten(a);
    expect(Array.from(flat.subarray(0, 8))).toEqual(Array.from(a["c/kernel"]!.dataSync()));
    expect(Array.from(flat.subarray(8, 11))).toEqual([0.5, -0.5, 2]);
    expect(Array.from(flat.subarray(11))).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("unflatten inverts flatten, keeps insertion order and dtypes, leaks nothing", () => {
    const withInt = { ...a, steps: tf.tensor1d([3, 4], "int32") };
    // Sorted keys: c/kernel (8), d1/bias (3), d1/kernel (6), steps (2, int32) last.
    expect(sortedKeys(withInt)[3]).toBe("steps");
    const floats = fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), {
      minLength: 17,
      maxLength: 17,
    });
    const ints = fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 2, maxLength: 2 });
    fc.assert(
      fc.property(floats, ints, (xs, ns) => {
        const data = Float32Array.from([...xs, ...ns]);
        expectNoLeak(() => {
          const r = unflatten(withInt, data);
          expect(Object.keys(r)).toEqual(Object.keys(withInt));
          expect(r.steps!.dtype).toBe("int32");
          expect(Array.from(flatten(r))).toEqual(Array.from(data));
          return r;
        }, disposeWeights);
      }),
      { numRuns: 20 },
    );
    withInt.steps.dispose();
    expect(() => unflatten(a, new Float32Array(3))).toThrow(/3 entries but the weights need 17/);
  });
});
