import * as tf from "@tensorflow/tfjs";
import { disposeWeights, type Weights } from "@wider/weights";
import { beforeAll, describe, expect, it } from "vitest";
import {
  disposeSwagState,
  swag,
  swagDraws,
  swagSample,
  swagSampleSeeded,
  swagVariance,
} from "../src/index.js";

beforeAll(async () => {
  expect(await tf.setBackend("cpu")).toBe(true);
});

const w = (v: number): Weights => ({ "d/kernel": tf.fill([2, 3], v), "d/bias": tf.fill([3], -v) });
const values = (t: tf.Tensor) => Array.from(t.dataSync());

describe("swag collection", () => {
  it("first update copies (float32); moments and deviations follow the definitions; the ring keeps the last K in order", () => {
    const c = swag({ maxRank: 3 });
    let s = c.init();
    expect(s).toEqual({ n: 0, mean: null, sqMean: null, deviations: [], maxRank: 3 });
    const first: Weights = {
      "d/kernel": tf.tensor(
        [
          [1, 2, 3],
          [4, 5, 6],
        ],
        [2, 3],
        "int32",
      ),
      "d/bias": tf.fill([3], 2),
    };
    s = c.update(s, first);
    expect(s.mean!["d/kernel"]!.dtype).toBe("float32");
    expect(values(s.mean!["d/kernel"]!)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(values(s.sqMean!["d/kernel"]!)).toEqual([1, 4, 9, 16, 25, 36]);
    expect(values(s.deviations[0]!["d/bias"]!)).toEqual([0, 0, 0]);
    disposeWeights(first);
    disposeSwagState(s);

    s = c.init();
    const xs = [1, 2, 4, 8, 16].map(w);
    for (const x of xs) s = c.update(s, x);
    expect(s.n).toBe(5);
    expect(values(s.mean!["d/kernel"]!)[0]).toBeCloseTo(31 / 5, 5);
    expect(values(s.sqMean!["d/kernel"]!)[0]).toBeCloseTo((1 + 4 + 16 + 64 + 256) / 5, 4);
    // Deviations of updates 3, 4, 5 (the ring of K = 3), each against the mean just after it.
    const means = [1, 1.5, 7 / 3, 15 / 4, 31 / 5];
    expect(s.deviations.map((d) => values(d["d/kernel"]!)[0]!)).toEqual(
      [4 - means[2]!, 8 - means[3]!, 16 - means[4]!].map((v) => expect.closeTo(v, 5)),
    );
    expect(values(s.deviations[2]!["d/bias"]!)[0]).toBeCloseTo(-(16 - 31 / 5), 5);
    for (const x of xs) disposeWeights(x);
    disposeSwagState(s);
  });

  it("update consumes the old state, never the weights; a mismatch throws and leaves the state intact", () => {
    const c = swag({ maxRank: 2 });
    const a = w(1);
    let s = c.update(c.init(), a);
    const old = s;
    s = c.update(s, a);
    expect(old.mean!["d/bias"]!.isDisposed).toBe(true);
    expect(old.sqMean!["d/bias"]!.isDisposed).toBe(true);
    expect(old.deviations[0]!["d/bias"]!.isDisposed).toBe(false); // handed over to the new state
    expect(a["d/bias"]!.isDisposed).toBe(false);
    s = c.update(s, a); // the first deviation leaves the ring and is freed
    expect(old.deviations[0]!["d/bias"]!.isDisposed).toBe(true);
    const bad = { "d/kernel": tf.zeros([3, 2]), "d/bias": tf.zeros([3]) };
    const before = tf.memory().numTensors;
    expect(() => c.update(s, bad)).toThrow(
      /"d\/kernel" has shape \[3,2\] but the SWAG mean has \[2,3\]/,
    );
    expect(() => c.update(s, { "d/kernel": bad["d/kernel"] })).toThrow(/missing: \[d\/bias\]/);
    expect(() => swag({ maxRank: 5 }).update(s, a)).toThrow(
      /keeps 2 deviations but this collector 5/,
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(s.mean!["d/bias"]!.isDisposed).toBe(false);
    disposeWeights(bad);
    disposeWeights(a);
    disposeSwagState(s);
  });

  it("rejects bad configuration and bad draws with errors naming the fix", () => {
    expect(() => swag({ maxRank: 1 })).toThrow(
      expect.objectContaining({ _tag: "SwagError", kind: "config", path: "maxRank" }),
    );
    expect(() => swag({ maxRank: 1 })).toThrow(/maxRank is 1; use an integer >= 2/);
    const c = swag();
    expect(() => swagVariance(c.init())).toThrow(/state is empty/);
    const x = w(1);
    const s = c.update(c.init(), x);
    expect(() => swagSample(s, { z1: x, z2: [1, 2] })).toThrow(
      /z2 has 2 values but the state stores 1/,
    );
    expect(() => swagSample(s, { z1: x, z2: [1], scale: -1 })).toThrow(/scale is -1/);
    expect(() => swagSample(s, { z1: { "d/bias": x["d/bias"]! }, z2: [1] })).toThrow(/z1/);
    disposeWeights(x);
    disposeSwagState(s);
  });

  it("variance is floored at 1e-30; scale 0 gives the mean; diag ignores z2; seeds are reproducible and distinct", () => {
    const c = swag();
    const x = w(3);
    let s = c.update(c.init(), x);
    s = c.update(s, x);
    const v = swagVariance(s);
    expect(values(v["d/bias"]!)).toEqual([1e-30, 1e-30, 1e-30].map(Math.fround));
    disposeWeights(v);
    const z = swagDraws(s, 1);
    const zero = swagSample(s, { z1: z.z1, z2: z.z2, scale: 0 });
    expect(values(zero["d/kernel"]!)).toEqual(values(s.mean!["d/kernel"]!));
    const d1 = swagSample(s, { z1: z.z1, z2: [0, 0], rank: "diag" });
    const d2 = swagSample(s, { z1: z.z1, z2: [], rank: "diag" });
    expect(values(d1["d/kernel"]!)).toEqual(values(d2["d/kernel"]!));
    const a = swagSampleSeeded(s, { seed: 5 });
    const b = swagSampleSeeded(s, { seed: 5 });
    expect(values(a["d/kernel"]!)).toEqual(values(b["d/kernel"]!));
    // z1 and z2 come from independent streams (not the same numbers).
    expect(Array.from(z.z2)).not.toEqual(values(z.z1["d/bias"]!).slice(0, 2));
    const other = swagDraws(s, 6);
    expect(values(other.z1["d/kernel"]!)).not.toEqual(values(z.z1["d/kernel"]!));
    for (const t of [z.z1, other.z1, zero, d1, d2, a, b]) disposeWeights(t);
    disposeWeights(x);
    disposeSwagState(s);
  });
});

describe("tensor memory", () => {
  it("no leaks over 1,000 collections and 100 samples", () => {
    const before = tf.memory().numTensors;
    const c = swag(); // K = 20
    let s = c.init();
    for (let i = 0; i < 1000; i++) {
      const x: Weights = { a: tf.fill([4, 3], Math.sin(i)), b: tf.fill([3], Math.cos(i)) };
      s = c.update(s, x);
      disposeWeights(x);
    }
    expect(s.n).toBe(1000);
    expect(s.deviations.length).toBe(20);
    // mean + sqMean + 20 deviations, 2 tensors each.
    expect(tf.memory().numTensors - before).toBe(44);
    for (let k = 0; k < 100; k++) {
      const x = swagSampleSeeded(s, { seed: k, rank: k % 2 === 0 ? "lowrank" : "diag" });
      disposeWeights(x);
    }
    disposeSwagState(s);
    expect(tf.memory().numTensors).toBe(before);
  });
});
