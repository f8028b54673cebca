import * as tf from "@tensorflow/tfjs";
import { disposeWeights, flatten, type Weights } from "@wider/weights";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type Averager,
  type AveragerState,
  custom,
  disposeState,
  ema,
  emaDecay,
  fromRule,
  swa,
} from "../src/index.js";

const weightsOf = (v: number[]): Weights => ({
  "a/kernel": tf.tensor2d(v.slice(0, 4), [2, 2]),
  "a/bias": tf.tensor1d(v.slice(4, 6)),
  "bn/moving_mean": tf.tensor1d(v.slice(6, 8)),
});
const vec = fc.array(fc.double({ min: -100, max: 100, noNaN: true }), {
  minLength: 8,
  maxLength: 8,
});

/** The flat float32 vector of `weightsOf(v)` (sorted-key order), without keeping tensors. */
const flatOf = (v: number[]): number[] => {
  const w = weightsOf(v);
  const f = Array.from(flatten(w));
  disposeWeights(w);
  return f;
};

/** Independent oracle: the float64 mean of the flat vectors. */
const meanOf = (vs: number[][]): number[] => {
  const flat = vs.map(flatOf);
  return flat[0]!.map((_, i) => flat.reduce((s, f) => s + f[i]!, 0) / flat.length);
};

/** Normalizes -0 to +0 so exact comparisons are numeric. */
const num = (xs: ArrayLike<number>): number[] => Array.from(xs, (x) => x + 0);

const fold = (avg: Averager, s: AveragerState, vs: number[][]): AveragerState => {
  for (const v of vs) {
    const w = weightsOf(v);
    s = avg.update(s, w);
    disposeWeights(w);
  }
  return s;
};

const closeTo = (got: ArrayLike<number>, want: number[], tol: number) => {
  for (let i = 0; i < want.length; i++) {
    expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want[i]!)));
  }
};

describe("swa", () => {
  it("equals the one-go mean for a sequence split anywhere (property)", () => {
    fc.assert(
      fc.property(fc.array(vec, { minLength: 1, maxLength: 8 }), fc.nat(), (vs, cut) => {
        {
          const k = cut % (vs.length + 1);
          const avg = swa();
          // Average the first k, then continue with the rest from that state.
          let s = fold(avg, avg.init(), vs.slice(0, k));
          expect(s.n).toBe(k);
          s = fold(avg, s, vs.slice(k));
          expect(s.n).toBe(vs.length);
          closeTo(flatten(s.mean!), meanOf(vs), 1e-5);
          disposeState(s);
        }
      }),
      { numRuns: 40 },
    );
  });

  it("first update copies, the state is float32 whatever the input dtype", () => {
    const avg = swa();
    const w = { k: tf.tensor1d([1, 2, 3], "int32") };
    let s = avg.update(avg.init(), w);
    expect(s.mean!.k!.dtype).toBe("float32");
    expect(Array.from(s.mean!.k!.dataSync())).toEqual([1, 2, 3]);
    const w2 = { k: tf.tensor1d([2, 2, 2], "int32") };
    s = avg.update(s, w2);
    expect(Array.from(s.mean!.k!.dataSync())).toEqual([1.5, 2, 2.5]);
    expect(w.k.isDisposed).toBe(false); // update never disposes its input
    disposeState(s);
    tf.dispose([w.k, w2.k]);
  });

  it("update consumes the old state, disposeState frees the last: numTensors flat over 1,000 updates", () => {
    const avg = swa();
    const w = weightsOf([1, 2, 3, 4, 5, 6, 7, 8]);
    const base = tf.memory().numTensors;
    let s = avg.update(avg.init(), w);
    const old = s.mean!;
    const afterFirst = tf.memory().numTensors;
    s = avg.update(s, w);
    expect(old["a/kernel"]!.isDisposed).toBe(true);
    for (let i = 0; i < 998; i++) s = avg.update(s, w);
    expect(tf.memory().numTensors).toBe(afterFirst);
    expect(s.n).toBe(1000);
    disposeState(s);
    expect(tf.memory().numTensors).toBe(base);
    disposeWeights(w);
  });

  it("buffers: copy keeps the latest buffers, average averages them", () => {
    const a = weightsOf([0, 0, 0, 0, 0, 0, 10, 20]);
    const b = weightsOf([2, 2, 2, 2, 2, 2, 30, 40]);
    for (const [mode, want] of [
      ["copy", [30, 40]],
      ["average", [20, 30]],
    ] as const) {
      const avg = swa({ buffers: mode });
      const s = avg.update(avg.update(avg.init(), a), b);
      expect(Array.from(s.mean!["bn/moving_mean"]!.dataSync())).toEqual(want);
      expect(Array.from(s.mean!["a/bias"]!.dataSync())).toEqual([1, 1]);
      disposeState(s);
    }
    const avg = swa({ buffers: "copy", isBuffer: (k) => k === "a/bias" });
    const s = avg.update(avg.update(avg.init(), a), b);
    expect(Array.from(s.mean!["a/bias"]!.dataSync())).toEqual([2, 2]);
    expect(Array.from(s.mean!["bn/moving_mean"]!.dataSync())).toEqual([20, 30]);
    disposeState(s);
    disposeWeights(a);
    disposeWeights(b);
    expect(() => swa({ buffers: "keep" as "copy" })).toThrow(
      expect.objectContaining({ _tag: "AveragingError", kind: "config" }),
    );
  });

  it("a key or shape mismatch throws and leaves the state intact", () => {
    const avg = swa();
    const a = weightsOf([1, 2, 3, 4, 5, 6, 7, 8]);
    const s = avg.update(avg.init(), a);
    const bad = { ...a, extra: tf.scalar(1) };
    expect(() => avg.update(s, bad)).toThrow(/unexpected: \[extra\]/);
    const before = tf.memory().numTensors;
    const wrong = { ...a, "a/bias": tf.zeros([3]) };
    expect(() => avg.update(s, wrong)).toThrow(/"a\/bias" has shape \[3\]/);
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(s.mean!["a/kernel"]!.isDisposed).toBe(false);
    tf.dispose([bad.extra, wrong["a/bias"]]);
    disposeState(s);
    disposeWeights(a);
  });
});

describe("ema", () => {
  it("with decay 0 equals the last weights (property)", () => {
    fc.assert(
      fc.property(fc.array(vec, { minLength: 1, maxLength: 6 }), (vs) => {
        const before = tf.memory().numTensors;
        const avg = ema({ decay: 0 });
        const s = fold(avg, avg.init(), vs);
        expect(num(flatten(s.mean!))).toEqual(num(flatOf(vs.at(-1)!)));
        disposeState(s);
        expect(tf.memory().numTensors).toBe(before);
      }),
      { numRuns: 30 },
    );
  });

  it("with decay 1 keeps the first weights; matches the closed form for 0 < d < 1", () => {
    const vs = [
      [1, 1, 1, 1, 1, 1, 1, 1],
      [3, 3, 3, 3, 3, 3, 3, 3],
      [7, 7, 7, 7, 7, 7, 7, 7],
    ];
    const keep = ema({ decay: 1 });
    const s1 = fold(keep, keep.init(), vs);
    expect(Array.from(flatten(s1.mean!))).toEqual(new Array(8).fill(1));
    disposeState(s1);
    const d = 0.8;
    const avg = ema({ decay: d });
    const s = fold(avg, avg.init(), vs);
    const want = (1 * d + 3 * (1 - d)) * d + 7 * (1 - d);
    closeTo(flatten(s.mean!), new Array(8).fill(want), 1e-6);
    disposeState(s);
  });

  it("warmup: d_t = min(decay, 1 - (1 + t/gamma)^-power); gamma = power = 1, decay = 1 is SWA", () => {
    const d = emaDecay({ decay: 0.99, warmup: { gamma: 2, power: 0.5 } });
    for (const t of [1, 2, 10, 1e6])
      expect(d(t)).toBeCloseTo(Math.min(0.99, 1 - (1 + t / 2) ** -0.5), 12);
    expect(emaDecay({ decay: 0.9, warmup: true })(1)).toBeCloseTo(1 - 2 ** (-2 / 3), 12);
    expect(emaDecay({ decay: 0.9 })(1)).toBe(0.9);
    const vs = [
      [1, 2, 3, 4, 5, 6, 7, 8],
      [2, 0, 3, 1, 0, 0, 9, 1],
      [5, 5, 5, 5, 5, 5, 5, 5],
    ];
    const a = ema({ decay: 1, warmup: { gamma: 1, power: 1 } });
    const sa = fold(a, a.init(), vs);
    closeTo(flatten(sa.mean!), meanOf(vs), 1e-6);
    disposeState(sa);
  });

  it("rejects bad options with a message naming the field and the fix", () => {
    expect(() => ema({ decay: 1.5 })).toThrow(/decay is 1.5; use a number in \[0, 1\]/);
    expect(() => ema({ decay: Number.NaN })).toThrow(
      expect.objectContaining({ _tag: "AveragingError", kind: "config" }),
    );
    expect(() => ema({ decay: 0.9, warmup: { gamma: 0 } })).toThrow(/warmup.gamma is 0/);
    expect(() => ema({ decay: 0.9, warmup: { power: -1 } })).toThrow(/warmup.power is -1/);
  });
});

describe("custom", () => {
  it("applies avgFn(mean, w, n) per tensor after a copying first update, like PyTorch avg_fn", () => {
    const seen: number[] = [];
    const avg = custom((mean, w, n) => {
      seen.push(n);
      return tf.maximum(mean, w); // running max
    });
    const vs = [
      [1, 5, 1, 1, 1, 1, 1, 1],
      [3, 2, 0, 0, 0, 0, 0, 9],
    ];
    const before = tf.memory().numTensors;
    const s = fold(avg, avg.init(), vs);
    expect(Array.from(flatten(s.mean!))).toEqual(flatOf([3, 5, 1, 1, 1, 1, 1, 9]));
    expect(seen).toEqual([1, 1, 1]); // three tensors, n = 1 at the second update
    disposeState(s);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("an avgFn returning its input is copied, not aliased", () => {
    const avg = custom((_mean, w) => w);
    const a = weightsOf([1, 1, 1, 1, 1, 1, 1, 1]);
    const b = weightsOf([2, 2, 2, 2, 2, 2, 2, 2]);
    const s = avg.update(avg.update(avg.init(), a), b);
    disposeWeights(b);
    expect(Array.from(flatten(s.mean!))).toEqual(new Array(8).fill(2));
    disposeState(s);
    disposeWeights(a);
  });
});

describe("cpu fast path", () => {
  it("swa and ema give bit-identical float32 results to their tensor rules (property)", () => {
    const tensorSwa = fromRule((m, w, n) => tf.add(m, tf.div(tf.sub(w, m), n + 1)));
    const d = emaDecay({ decay: 0.97, warmup: { gamma: 2, power: 0.7 } });
    const tensorEma = fromRule((m, w, n) => tf.add(tf.mul(m, d(n)), tf.mul(w, 1 - d(n))));
    const wide = fc.array(fc.double({ min: -1e4, max: 1e4, noNaN: true }), {
      minLength: 8,
      maxLength: 8,
    });
    fc.assert(
      fc.property(fc.array(wide, { minLength: 2, maxLength: 7 }), (vs) => {
        expect(tf.getBackend()).toBe("cpu");
        const pairs: Array<[Averager, Averager]> = [
          [swa(), tensorSwa],
          [ema({ decay: 0.97, warmup: { gamma: 2, power: 0.7 } }), tensorEma],
        ];
        for (const [fast, slow] of pairs) {
          const a = fold(fast, fast.init(), vs);
          const b = fold(slow, slow.init(), vs);
          expect(num(flatten(a.mean!))).toEqual(num(flatten(b.mean!)));
          disposeState(a);
          disposeState(b);
        }
      }),
      { numRuns: 50 },
    );
  });
});
