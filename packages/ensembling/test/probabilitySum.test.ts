import * as tf from "@tensorflow/tfjs";
import { orThrow } from "@wider/errors";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import {
  accumulateProbabilities,
  disposeProbabilitySum,
  ensemblePredict,
  initProbabilitySum,
  meanProbabilities,
  type ProbabilitySum,
  toProbabilities,
} from "../src/index.js";

/** Plain-JS softmax of row-major logits, the oracle for tf.softmax. */
const softmaxRows = (logits: number[][]): number[][] =>
  logits.map((row) => {
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  });

describe("running probability sum", () => {
  it("the mean of the running sum equals the mean of the stacked members; no leaks", () => {
    const members = [0, 1, 2, 3].map((s) =>
      tf.softmax(tf.randomNormal([7, 4], 0, 2, "float32", s)),
    );
    const before = tf.memory().numTensors;
    let state: ProbabilitySum = initProbabilitySum();
    for (const p of members) state = orThrow(accumulateProbabilities(state, p));
    expect(state.count).toBe(4);
    const mean = orThrow(meanProbabilities(state));
    disposeProbabilitySum(state);
    expect(tf.memory().numTensors).toBe(before + 1);
    const expected = members.map((m) => m.arraySync() as number[][]);
    const got = mean.arraySync();
    for (let i = 0; i < 7; i++)
      for (let c = 0; c < 4; c++) {
        const avg = expected.reduce((s, m) => s + (m[i]?.[c] ?? Number.NaN), 0) / 4;
        expect(got[i]?.[c]).toBeCloseTo(avg, 6);
      }
    tf.dispose([mean, ...members]);
  });

  it("a shape mismatch is a Left and keeps the state usable; empty mean is a Left", () => {
    expect(E.isLeft(meanProbabilities(initProbabilitySum()))).toBe(true);
    const a = tf.ones([3, 2]);
    const b = tf.ones([4, 2]);
    const s1 = orThrow(accumulateProbabilities(initProbabilitySum(), a));
    const bad = accumulateProbabilities(s1, b);
    expect(E.isLeft(bad) && bad.left.message).toMatch(/\[4, 2\] but earlier members had \[3, 2\]/);
    const s2 = orThrow(accumulateProbabilities(s1, a));
    expect(s2.count).toBe(2);
    expect(s2.sum?.arraySync()).toEqual([
      [2, 2],
      [2, 2],
      [2, 2],
    ]);
    disposeProbabilitySum(s2);
    tf.dispose([a, b]);
  });

  it("toProbabilities applies softmax only for logits and rejects non-matrices", () => {
    const logits = [
      [1, 2, 3],
      [0, -1, 5],
    ];
    const t = tf.tensor2d(logits);
    const p = orThrow(toProbabilities(t, { logits: true }));
    const expected = softmaxRows(logits);
    p.arraySync().forEach((row, i) => {
      row.forEach((v, c) => {
        expect(v).toBeCloseTo(expected[i]?.[c] ?? Number.NaN, 6);
      });
    });
    const same = orThrow(toProbabilities(t));
    expect(same.arraySync()).toEqual(logits);
    const v = tf.ones([3]);
    expect(E.isLeft(toProbabilities(v))).toBe(true);
    tf.dispose([t, p, same, v]);
  });
});

describe("ensemblePredict with user-supplied members", () => {
  // Member s predicts logits s * x (a temperature): the oracle averages softmax(s * x) in JS.
  const xs = [
    [0.5, -1, 2],
    [3, 0, -2],
    [1, 1, 1],
    [-0.3, 0.2, 0.1],
    [2, 2.5, -1],
  ];
  const temps = [0.5, 1, 2];
  const oracle = (() => {
    const per = temps.map((s) => softmaxRows(xs.map((r) => r.map((v) => s * v))));
    return xs.map((r, i) =>
      r.map((_, c) => per.reduce((acc, p) => acc + (p[i]?.[c] ?? Number.NaN), 0) / temps.length),
    );
  })();

  const check = (t: tf.Tensor) => {
    const got = t.arraySync() as number[][];
    for (let i = 0; i < xs.length; i++)
      for (let c = 0; c < 3; c++) expect(got[i]?.[c]).toBeCloseTo(oracle[i]?.[c] ?? Number.NaN, 6);
  };

  it("averages softmax of logits (logits: true), whole x or in batches, without leaks", async () => {
    const x = tf.tensor2d(xs);
    const before = tf.memory().numTensors;
    const logitsFn = (s: number, batch: tf.Tensor) => tf.mul(batch, s);
    const whole = orThrow(await ensemblePredict(temps, logitsFn, x, { logits: true }));
    const batched = orThrow(
      await ensemblePredict(temps, logitsFn, x, { logits: true, batchSize: 2 }),
    );
    expect(tf.memory().numTensors).toBe(before + 2);
    check(whole);
    check(batched);
    tf.dispose([whole, batched, x]);
  });

  it("accepts probabilities (the default), async iterables and async predictFn", async () => {
    const x = tf.tensor2d(xs);
    async function* members() {
      for (const s of temps) yield s;
    }
    const before = tf.memory().numTensors;
    const probsFn = async (s: number, batch: tf.Tensor) =>
      tf.tidy(() => tf.softmax(tf.mul(batch, s)));
    const p = orThrow(await ensemblePredict(members(), probsFn, x, { batchSize: 3 }));
    expect(tf.memory().numTensors).toBe(before + 1);
    check(p);
    tf.dispose([p, x]);
  });

  it("no members or a member of another shape are Left values, a bad batch size throws; no leaks", async () => {
    const x = tf.tensor2d(xs);
    const before = tf.memory().numTensors;
    const fn = (s: number, batch: tf.Tensor) => tf.tidy(() => tf.softmax(tf.mul(batch, s)));
    const none = await ensemblePredict([], fn, x);
    expect(E.isLeft(none) && none.left.message).toMatch(/0 members/);
    await expect(ensemblePredict(temps, fn, x, { batchSize: 0 })).rejects.toThrow(
      /batchSize was 0/,
    );
    const odd = await ensemblePredict(
      [1, 2],
      (s, batch) => (s === 1 ? tf.softmax(batch) : tf.ones([batch.shape[0] ?? 0, 4])),
      x,
    );
    expect(E.isLeft(odd) && odd.left.message).toMatch(/member 1 probabilities have shape \[5, 4\]/);
    const rank3 = await ensemblePredict([1], (_s, b) => tf.expandDims(b, 0), x);
    expect(E.isLeft(rank3) && rank3.left.message).toMatch(/member 0 output has shape \[1, 5, 3\]/);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it("releases its tensors when predictFn throws", async () => {
    const x = tf.tensor2d(xs);
    const before = tf.memory().numTensors;
    await expect(
      ensemblePredict(
        [1, 2],
        (s, b) => {
          if (s === 2) throw new Error("boom");
          return tf.softmax(b);
        },
        x,
        { batchSize: 2 },
      ),
    ).rejects.toThrow("boom");
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
