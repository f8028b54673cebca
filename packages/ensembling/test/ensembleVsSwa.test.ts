import * as tf from "@tensorflow/tfjs";
import { orThrow } from "@wider/errors";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { ensembleVsSwa, predictionMetrics } from "../src/index.js";

describe("ensembleVsSwa on hand-computed probabilities", () => {
  const p1 = { data: [0.8, 0.2], numClasses: 2 };
  const p2 = { data: [0.6, 0.4], numClasses: 2 };

  it("SWA equal to the ensemble mean: zero gap, spread = pairwise distance", () => {
    const r = orThrow(ensembleVsSwa([p1, p2], { data: [0.7, 0.3], numClasses: 2 }));
    expect(r.members).toBe(2);
    expect(r.samples).toBe(1);
    expect(r.classes).toBe(2);
    expect(r.ensembleSwaTv).toBeCloseTo(0, 12);
    expect(r.ensembleSwaL2).toBeCloseTo(0, 12);
    expect(r.ensembleSwaKl).toBeCloseTo(0, 12);
    expect(r.memberPairwiseTv).toBeCloseTo(0.2, 12); // (|.8-.6| + |.2-.4|) / 2
    expect(r.memberPairwiseL2).toBeCloseTo(Math.sqrt(0.08), 12);
    expect(r.memberEnsembleTv).toBeCloseTo(0.1, 12);
    expect(r.memberSwaTv).toBeCloseTo(0.1, 12);
    expect(r.gapToSpreadRatio).toBeCloseTo(0, 12);
    expect(r.memberPairwiseAgreement).toBe(1);
    expect(r.ensembleSwaAgreement).toBe(1);
    expect(r.memberSwaAgreement).toBe(1);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });

  it("SWA away from the ensemble: TV, L2, KL and agreements by hand", () => {
    const r = orThrow(ensembleVsSwa([p1, p2], { data: [0.4, 0.6], numClasses: 2 }));
    // ensemble [.7, .3] vs swa [.4, .6]
    expect(r.ensembleSwaTv).toBeCloseTo(0.3, 12);
    expect(r.ensembleSwaL2).toBeCloseTo(Math.sqrt(0.18), 12);
    // .7 ln(.7/.4) + .3 ln(.3/.6) = .3917311 - .2079442
    expect(r.ensembleSwaKl).toBeCloseTo(0.1837869, 6);
    expect(r.gapToSpreadRatio).toBeCloseTo(1.5, 12);
    expect(r.memberSwaTv).toBeCloseTo((0.4 + 0.2) / 2, 12);
    expect(r.ensembleSwaAgreement).toBe(0);
    expect(r.memberSwaAgreement).toBe(0);
  });

  it("three members, two samples: pairwise means over the three pairs", () => {
    // sample 0 argmax: m0=0, m1=1, m2=0; sample 1: all class 1
    const m0 = tf.tensor2d([
      [0.9, 0.1],
      [0.2, 0.8],
    ]);
    const m1 = tf.tensor2d([
      [0.3, 0.7],
      [0.4, 0.6],
    ]);
    const m2 = tf.tensor2d([
      [0.6, 0.4],
      [0.1, 0.9],
    ]);
    const swa = tf.tensor2d([
      [0.6, 0.4],
      [0.2, 0.8],
    ]);
    const before = tf.memory().numTensors;
    const r = orThrow(ensembleVsSwa([m0, m1, m2], swa, { labels: [0, 1] }));
    expect(tf.memory().numTensors).toBe(before);
    // TV per pair: (0,1): (.6 + .2)/2 = .4 ; (0,2): (.3 + .1)/2 = .2 ; (1,2): (.3 + .3)/2 = .3
    expect(r.memberPairwiseTv).toBeCloseTo((0.4 + 0.2 + 0.3) / 3, 6);
    // agreement per pair: (0,1): 1/2, (0,2): 1, (1,2): 1/2
    expect(r.memberPairwiseAgreement).toBeCloseTo(2 / 3, 12);
    // ensemble = [[.6, .4], [.7/3, 2.3/3]]; vs swa: sample 0: 0, sample 1: |.7/3 - .2| = .1/3
    expect(r.ensembleSwaTv).toBeCloseTo(0.1 / 3 / 2, 6);
    expect(r.ensembleSwaAgreement).toBe(1);
    expect(r.memberSwaAgreement).toBeCloseTo((1 + 0.5 + 1) / 3, 12);
    const ens = tf.tensor2d([
      [0.6, 0.4],
      [0.7 / 3, 2.3 / 3],
    ]);
    const expectedEnsemble = orThrow(predictionMetrics(ens, [0, 1]));
    const ensMetrics = r.metrics?.ensemble;
    expect(ensMetrics?.accuracy).toBe(expectedEnsemble.accuracy);
    expect(ensMetrics?.nll).toBeCloseTo(expectedEnsemble.nll, 6);
    expect(ensMetrics?.brier).toBeCloseTo(expectedEnsemble.brier, 6);
    // member accuracies: m0 1, m1 1/2, m2 1 -> mean 5/6
    expect(r.metrics?.memberMean.accuracy).toBeCloseTo(5 / 6, 12);
    expect(r.metrics?.swa.accuracy).toBe(1);
    tf.dispose([m0, m1, m2, swa, ens]);
  });

  it("identical members: zero spread, null ratio; fewer than two members or a shape mismatch is a Left", () => {
    const r = orThrow(ensembleVsSwa([p1, p1], p1));
    expect(r.memberPairwiseTv).toBe(0);
    expect(r.gapToSpreadRatio).toBeNull();
    const one = ensembleVsSwa([p1], p1);
    expect(E.isLeft(one) && one.left.message).toMatch(/at least 2 members/);
    const odd = ensembleVsSwa([p1, { data: [0.2, 0.3, 0.5], numClasses: 3 }], p1);
    expect(E.isLeft(odd) && odd.left.message).toMatch(/members\[1\] is \[1, 3\]/);
  });
});
