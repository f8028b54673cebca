import * as tf from "@tensorflow/tfjs";
import { orThrow } from "@wider/errors";
import { axpy, disposeWeights, fromModel, randomNormalLike, type Weights } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareEnsembleToSwa, type EnsembleVsSwaReport, type Snapshot } from "../src/index.js";
import { blobs, mlp } from "./fixture.js";

const train = blobs(240, 11);
const test = blobs(150, 12);
let model: tf.LayersModel;
let center: Weights;
let d1: Weights;
let d2: Weights;

/** Members w0 +- eps d1, w0 +- eps d2: their weight mean is w0 (up to rounding). */
const membersAt = (eps: number): Snapshot[] =>
  [
    [eps, d1],
    [-eps, d1],
    [eps, d2],
    [-eps, d2],
  ].map(([s, d], i) => ({
    kind: "memory" as const,
    step: i,
    weights: axpy(s as number, d as Weights, center),
  }));

const reportAt = async (eps: number, swa?: Weights): Promise<EnsembleVsSwaReport> => {
  const members = membersAt(eps);
  const r = await compareEnsembleToSwa(model, members, test.x, {
    labels: test.labels,
    batchSize: 64,
    ...(swa === undefined ? {} : { swa }),
  });
  for (const m of members) if (m.kind === "memory") disposeWeights(m.weights);
  return orThrow(r);
};

beforeAll(async () => {
  model = mlp(5);
  for (let epoch = 0; epoch < 3; epoch++) {
    for (let start = 0; start < 240; start += 24) {
      const xb = train.x.slice(start, 24);
      const yb = train.y.slice(start, 24);
      await model.trainOnBatch(xb, yb);
      tf.dispose([xb, yb]);
    }
  }
  center = fromModel(model);
  d1 = randomNormalLike(center, 1);
  d2 = randomNormalLike(center, 2);
});

afterAll(() => {
  for (const w of [center, d1, d2]) disposeWeights(w);
  model.dispose();
  tf.dispose([train.x, train.y, test.x, test.y]);
});

describe("section 3.5 on a trained MLP: SWA approximates the ensemble to second order", () => {
  it("the ensemble-SWA gap is second order, the member spread first order", async () => {
    const before = tf.memory().numTensors;
    const big = await reportAt(0.1);
    const small = await reportAt(0.05);
    expect(tf.memory().numTensors).toBe(before);
    // halving the radius: spread halves (first order), gap quarters (second order)
    expect(big.memberPairwiseTv / small.memberPairwiseTv).toBeGreaterThan(1.7);
    expect(big.memberPairwiseTv / small.memberPairwiseTv).toBeLessThan(2.3);
    expect(big.ensembleSwaTv / small.ensembleSwaTv).toBeGreaterThan(3);
    expect(big.ensembleSwaTv / small.ensembleSwaTv).toBeLessThan(5);
    // near the basin the gap is much smaller than the spread
    expect(small.gapToSpreadRatio).not.toBeNull();
    expect(small.gapToSpreadRatio ?? 1).toBeLessThan(0.2);
    expect(small.ensembleSwaAgreement).toBeGreaterThanOrEqual(small.memberPairwiseAgreement);
    expect(small.metrics?.swa.accuracy).toBeGreaterThan(0.5);
  });

  it("passing the SWA weights explicitly gives the same report as the computed mean", async () => {
    const computed = await reportAt(0.05);
    const given = await reportAt(0.05, center);
    expect(given.ensembleSwaTv).toBeCloseTo(computed.ensembleSwaTv, 6);
    expect(given.memberPairwiseTv).toBe(computed.memberPairwiseTv);
  });

  it("a single member is a Left (pairwise spread needs two)", async () => {
    const before = tf.memory().numTensors;
    const one: Snapshot[] = [{ kind: "memory", step: 0, weights: center }];
    const r = await compareEnsembleToSwa(model, one, test.x);
    expect(E.isLeft(r) && r.left.message).toMatch(/at least 2 members/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
