import * as tf from "@tensorflow/tfjs";
import { disposeWeights, flatten, type Weights } from "@wider/weights";
import { beforeAll, describe, expect, it } from "vitest";
import {
  disposeSwagState,
  type SwagState,
  swag,
  swagSampleSeeded,
  swagVariance,
} from "../src/index.js";

beforeAll(async () => {
  expect(await tf.setBackend("cpu")).toBe(true);
});

// A small "model": 5 weights in two tensors, 12 SGD-like iterates, K = 4 (so the ring wrapped).
const collect = (): SwagState => {
  const collector = swag({ maxRank: 4 });
  let s = collector.init();
  for (let i = 0; i < 12; i++) {
    const w: Weights = {
      a: tf.tensor([Math.sin(i), 0.5 * Math.cos(1.7 * i), 0.1 * i], [3]),
      b: tf.tensor([[1 + 0.3 * Math.sin(2.3 * i), -0.2 * Math.cos(0.9 * i) + 0.05 * i]], [1, 2]),
    };
    s = collector.update(s, w);
    disposeWeights(w);
  }
  return s;
};

/** The SWAG covariance `scale * (diag(var) + D^T D / (K - 1))` in float64 (flatten order). */
const theory = (
  s: SwagState,
  scale: number,
  lowRank: boolean,
  divisor = s.maxRank - 1,
): number[][] => {
  const v = swagVariance(s);
  const variance = Array.from(flatten(v));
  disposeWeights(v);
  const rows = s.deviations.map((d) => Array.from(flatten(d)));
  const p = variance.length;
  return Array.from({ length: p }, (_, i) =>
    Array.from({ length: p }, (_, j) => {
      let c = i === j ? variance[i]! : 0;
      if (lowRank) for (const r of rows) c += (r[i]! * r[j]!) / divisor;
      return scale * c;
    }),
  );
};

/**
 * N seeded samples; the sample covariance about the known mean, `S = sum (x - mu)(x - mu)^T / N`,
 * is unbiased with standard error `sqrt((C_ii C_jj + C_ij^2) / N)` for Gaussian samples; each entry
 * must lie within 5 standard errors (under the normal approximation, a false alarm over the 15
 * entries has probability ~1e-5; the seeds are fixed, so the test is deterministic anyway).
 * The sample mean must lie within 5 standard errors `sqrt(C_ii / N)` of the SWA mean.
 * N = 6000: dividing by K instead of K - 1 (a 25 % smaller low-rank part) moves the covariance by
 * far more than 5 standard errors (~9 % of an entry), so the test can tell the two apart.
 */
const checkCovariance = (s: SwagState, rank: "diag" | "lowrank", scale: number, n: number) => {
  const mu = Array.from(flatten(s.mean!));
  const p = mu.length;
  const sum = Array.from({ length: p }, () => new Float64Array(p));
  const first = new Float64Array(p);
  for (let k = 0; k < n; k++) {
    const w = swagSampleSeeded(s, { seed: k, scale, rank });
    const x = flatten(w);
    disposeWeights(w);
    for (let i = 0; i < p; i++) {
      const di = x[i]! - mu[i]!;
      first[i] = first[i]! + di;
      for (let j = 0; j < p; j++) sum[i]![j] = sum[i]![j]! + di * (x[j]! - mu[j]!);
    }
  }
  const c = theory(s, scale, rank === "lowrank");
  let worst = 0;
  // How far the same samples are from the covariance with K in place of K - 1 (must be far).
  const alt = theory(s, scale, rank === "lowrank", s.maxRank);
  let altWorst = 0;
  for (let i = 0; i < p; i++) {
    const seMean = Math.sqrt(c[i]![i]! / n);
    expect(Math.abs(first[i]! / n), `mean[${i}]`).toBeLessThanOrEqual(5 * seMean);
    for (let j = 0; j < p; j++) {
      const se = Math.sqrt((c[i]![i]! * c[j]![j]! + c[i]![j]! ** 2) / n);
      const z = Math.abs(sum[i]![j]! / n - c[i]![j]!) / se;
      worst = Math.max(worst, z);
      altWorst = Math.max(altWorst, Math.abs(sum[i]![j]! / n - alt[i]![j]!) / se);
      expect(z, `cov[${i}][${j}]: ${sum[i]![j]! / n} vs ${c[i]![j]!}`).toBeLessThanOrEqual(5);
    }
  }
  return { worst, altWorst };
};

describe("sample covariance of seeded SWAG samples", () => {
  it("low rank: matches scale * (diag(var) + D^T D / (K - 1)), and not D^T D / K", () => {
    const s = collect();
    const { worst, altWorst } = checkCovariance(s, "lowrank", 0.5, 6000);
    console.log(
      `lowrank covariance: worst |error| / standard error = ${worst.toFixed(2)} (vs a K divisor: ${altWorst.toFixed(2)})`,
    );
    expect(altWorst).toBeGreaterThan(5);
    disposeSwagState(s);
  });

  it("diag: matches scale * diag(var), no correlations", () => {
    const s = collect();
    const { worst } = checkCovariance(s, "diag", 2, 4000);
    console.log(`diag covariance: worst |error| / standard error = ${worst.toFixed(2)}`);
    disposeSwagState(s);
  });
});
