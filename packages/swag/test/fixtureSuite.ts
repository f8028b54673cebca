import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { disposeWeights } from "@wider/weights";
import { describe, expect, it } from "vitest";
import { disposeSwagState, type SwagState, swag, swagSample, swagVariance } from "../src/index.js";
import { expectWeightsClose, type FixtureWeights, toWeights } from "./helpers.js";

interface Checkpoint {
  n: number;
  mean: FixtureWeights;
  sqMean: FixtureWeights;
  variance: FixtureWeights;
  deviations: FixtureWeights[];
  samples: {
    scale: number;
    rank: "diag" | "lowrank";
    z1: FixtureWeights;
    z2: number[];
    sample: FixtureWeights;
  }[];
}

const fixture = JSON.parse(
  readFileSync(join(import.meta.dirname, "fixtures", "swag.json"), "utf8"),
) as { maxRank: number; sequence: FixtureWeights[]; checkpoints: Checkpoint[] };

/**
 * The authors' formulas (scripts/make_fixtures.py, float32 torch) against ours, 1e-6 relative:
 * |ours - torch| <= 1e-6 * max(|torch|, floor). The floors, and why:
 * - sqMean: `floor` (1e-30: pure relative; sqMean is positive and not small).
 * - mean: floor 1, the scale of the weights (entries ~N(0,1)). The two running-mean forms
 *   (ours `m + (x - m)/(n+1)`, theirs `m*n/(n+1) + x/(n+1)`) differ by float32 roundings of
 *   terms of the weights' size, so a mean entry near 0 (e.g. -0.029) differs by ~1e-7 absolute.
 * - deviations `w - mean`: floor 1, the scale of the weights (entries ~N(0,1)): the deviation
 *   inherits the mean's absolute rounding (~1e-7 * |mean|), which is large relative to a deviation
 *   that happens to be near 0.
 * - variance `sqMean - mean^2`: floor sqMean, per entry: the subtraction cancels, so its absolute
 *   error is a few float32 roundings of sqMean (~1e-7 * sqMean) however small the variance.
 * - samples: floor 1, as deviations (they add sqrt(var) * z1 and D^T z2 terms of order 1).
 */
export const fixtureSuite = (label: string, floor: number) =>
  describe(`SWAG vs the authors' formulas in PyTorch (${label})`, () => {
    it("mean, sqMean, variance, deviation ring and samples after 10 and 30 updates (K = 20)", () => {
      const before = tf.memory().numTensors;
      const collector = swag({ maxRank: fixture.maxRank });
      let state = collector.init();
      const worst = { mean: 0, sqMean: 0, variance: 0, deviations: 0, samples: 0 };
      let checked = 0;
      fixture.sequence.forEach((ws, i) => {
        const w = toWeights(ws);
        state = collector.update(state, w);
        disposeWeights(w);
        const cp = fixture.checkpoints.find((c) => c.n === i + 1);
        if (cp === undefined) return;
        checked++;
        expect(state.n).toBe(cp.n);
        worst.mean = Math.max(
          worst.mean,
          expectWeightsClose(state.mean!, cp.mean, 1e-6, 1, "mean"),
        );
        worst.sqMean = Math.max(
          worst.sqMean,
          expectWeightsClose(state.sqMean!, cp.sqMean, 1e-6, floor, "sqMean"),
        );
        const v = swagVariance(state);
        worst.variance = Math.max(
          worst.variance,
          expectWeightsClose(v, cp.variance, 1e-6, cp.sqMean, "var"),
        );
        disposeWeights(v);
        expect(state.deviations.length).toBe(cp.deviations.length);
        state.deviations.forEach((d, r) => {
          worst.deviations = Math.max(
            worst.deviations,
            expectWeightsClose(d, cp.deviations[r]!, 1e-6, 1, `deviation ${r}`),
          );
        });
        // Samples: swagSample is a pure function of a state and draws, so check it on the torch
        // state itself; sampling from our own collected state would add the cancellation in
        // var = sqMean - mean^2 (its ~1e-7 * sqMean absolute difference grows by 1/(2 sqrt(var))
        // in sqrt(var)), which says nothing about the sampler.
        const torchState: SwagState = {
          n: cp.n,
          mean: toWeights(cp.mean),
          sqMean: toWeights(cp.sqMean),
          deviations: cp.deviations.map(toWeights),
          maxRank: fixture.maxRank,
        };
        for (const s of cp.samples) {
          const z1 = toWeights(s.z1);
          const out = swagSample(torchState, { scale: s.scale, rank: s.rank, z1, z2: s.z2 });
          worst.samples = Math.max(
            worst.samples,
            expectWeightsClose(out, s.sample, 1e-6, 1, `${s.rank} sample`),
          );
          disposeWeights(z1);
          disposeWeights(out);
        }
        disposeSwagState(torchState);
      });
      expect(checked).toBe(2);
      console.log(`swag fixtures (${label}) worst relative errors: ${JSON.stringify(worst)}`);
      disposeSwagState(state);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
