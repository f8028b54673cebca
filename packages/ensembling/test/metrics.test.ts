import * as tf from "@tensorflow/tfjs";
import { orThrow } from "@wider/errors";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import {
  accuracy,
  brierScore,
  expectedCalibrationError,
  negativeLogLikelihood,
  predictionMetrics,
  reliabilityBins,
} from "../src/index.js";

// Five samples, three classes. Confidences avoid bin edges (1/15 multiples).
// A [0.70, 0.20, 0.10] y=0 correct, conf 0.70 (bin 10)
// B [0.10, 0.62, 0.28] y=2 wrong,   conf 0.62 (bin 9)
// C [0.20, 0.30, 0.50] y=2 correct, conf 0.50 (bin 7)
// D [0.45, 0.45, 0.10] y=1 wrong (tie -> class 0), conf 0.45 (bin 6)
// E [0.05, 0.68, 0.27] y=1 correct, conf 0.68 (bin 10)
const rows = [
  [0.7, 0.2, 0.1],
  [0.1, 0.62, 0.28],
  [0.2, 0.3, 0.5],
  [0.45, 0.45, 0.1],
  [0.05, 0.68, 0.27],
];
const labels = [0, 2, 2, 1, 1];
const flat = { data: new Float32Array(rows.flat()), numClasses: 3 };

// Hand-computed (see comments):
// accuracy: A, C, E correct -> 3/5
const ACC = 0.6;
// NLL: -(ln .7 + ln .28 + ln .5 + ln .45 + ln .68) / 5
//     = (0.3566749 + 1.2729657 + 0.6931472 + 0.7985077 + 0.3856625) / 5
const NLL = 0.7013916;
// Brier: A .09+.04+.01=.14, B .01+.3844+.5184=.9128, C .04+.09+.25=.38,
//        D .2025+.3025+.01=.515, E .0025+.1024+.0729=.1778 -> 2.1256 / 5
const BRIER = 0.42512;
// ECE(15): bin10 {A,E}: acc 1, conf .69 -> 2/5*.31 = .124; bin9 {B}: 1/5*.62 = .124;
//          bin7 {C}: 1/5*.5 = .1; bin6 {D}: 1/5*.45 = .09 -> .438
const ECE = 0.438;

describe("metrics on a hand-computed prediction set", () => {
  it("accuracy, NLL, Brier and ECE match hand computation (Float32Array input)", () => {
    expect(orThrow(accuracy(flat, labels))).toBeCloseTo(ACC, 12);
    expect(orThrow(negativeLogLikelihood(flat, labels))).toBeCloseTo(NLL, 6);
    expect(orThrow(brierScore(flat, labels))).toBeCloseTo(BRIER, 6);
    expect(orThrow(expectedCalibrationError(flat, labels))).toBeCloseTo(ECE, 6);
  });

  it("tensor probabilities with one-hot labels give the same numbers, without leaks", () => {
    const p = tf.tensor2d(rows);
    const y = tf.oneHot(tf.tensor1d(labels, "int32"), 3);
    const before = tf.memory().numTensors;
    const m = orThrow(predictionMetrics(p, y));
    expect(tf.memory().numTensors).toBe(before);
    expect(m.count).toBe(5);
    expect(m.accuracy).toBeCloseTo(ACC, 12);
    expect(m.nll).toBeCloseTo(NLL, 6);
    expect(m.brier).toBeCloseTo(BRIER, 6);
    expect(m.ece).toBeCloseTo(ECE, 6);
    const yIdx = tf.tensor1d(labels, "int32");
    expect(orThrow(predictionMetrics(p, yIdx))).toEqual(m);
    tf.dispose([p, y, yIdx]);
  });

  it("reliability bins hold the counts, accuracies and confidences; one bin gives |acc - conf|", () => {
    const bins = orThrow(reliabilityBins(flat, labels));
    expect(bins).toHaveLength(15);
    expect(bins.map((b) => b.count)).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 2, 0, 0, 0, 0]);
    expect(bins[10]?.accuracy).toBe(1);
    expect(bins[10]?.confidence).toBeCloseTo(0.69, 6);
    expect(bins[9]?.accuracy).toBe(0);
    expect(bins[10]?.lower).toBeCloseTo(10 / 15, 12);
    expect(bins[10]?.upper).toBeCloseTo(11 / 15, 12);
    // one bin: |0.6 - mean(.7, .62, .5, .45, .68)| = |0.6 - 0.59|
    expect(orThrow(expectedCalibrationError(flat, labels, { bins: 1 }))).toBeCloseTo(0.01, 6);
  });

  it("NLL clips a zero true-class probability at epsilon (default 1e-12)", () => {
    const p = { data: [1, 0, 0.5, 0.5], numClasses: 2 };
    // (-ln 1e-12 + ln 2) / 2
    expect(orThrow(negativeLogLikelihood(p, [1, 0]))).toBeCloseTo((27.631021 + Math.LN2) / 2, 5);
    expect(orThrow(negativeLogLikelihood(p, [1, 0], { epsilon: 1e-4 }))).toBeCloseTo(
      (9.21034 + Math.LN2) / 2,
      5,
    );
  });

  it("a perfect, fully confident predictor scores accuracy 1 and zero NLL, Brier, ECE", () => {
    const m = orThrow(predictionMetrics({ data: [0, 1, 1, 0], numClasses: 2 }, [1, 0]));
    expect(m).toEqual({ count: 2, accuracy: 1, nll: 0, brier: 0, ece: 0 });
  });

  it("user errors are Left values naming the field and the fix", () => {
    const cases: Array<[E.Either<{ message: string }, unknown>, RegExp]> = [
      [accuracy(flat, [0, 1]), /labels has 2 entries but there are 5 predictions/],
      [accuracy(flat, [0, 2, 2, 1, 3]), /labels\[4\] was 3; .*\[0, 3\)/],
      [accuracy(flat, [0, 2, 2, 1, 0.5]), /labels\[4\] was 0.5/],
      [accuracy({ data: [0.5, 0.5, 1], numClasses: 2 }, [0]), /not a multiple of numClasses/],
      [accuracy({ data: [], numClasses: 2 }, []), /0 samples/],
    ];
    for (const [result, pattern] of cases) {
      expect(E.isLeft(result)).toBe(true);
      if (E.isLeft(result)) expect(result.left.message).toMatch(pattern);
    }
    // Options written in code are programmer's mistakes: thrown, kind config.
    const config = expect.objectContaining({ _tag: "EnsemblingError", kind: "config" });
    expect(() => expectedCalibrationError(flat, labels, { bins: 0 })).toThrow(/bins was 0/);
    expect(() => expectedCalibrationError(flat, labels, { bins: 0 })).toThrow(config);
    expect(() => negativeLogLikelihood(flat, labels, { epsilon: 0 })).toThrow(/epsilon was 0/);
    expect(() => negativeLogLikelihood(flat, labels, { epsilon: 0 })).toThrow(config);
    const t3 = tf.zeros([2, 2, 2]);
    const r = accuracy(t3, [0, 1]);
    expect(E.isLeft(r) && r.left.message).toMatch(/shape \[2, 2, 2\]; pass a rank-2 tensor/);
    t3.dispose();
  });
});
