import { orThrow } from "@wider/errors";
import { disposeWeights, flatten } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import {
  disposePlan,
  evaluatePlanWith,
  linspace,
  type PlanResults,
  randomDirection,
  rayFrom,
  rayWidth,
  summarizeWidths,
  widthsOfRays,
} from "../src/index.js";
import { bowlLoss, curvatureAlong, N, weightsOf } from "./quadratic.js";

describe("rayWidth", () => {
  it("interpolates linearly between the grid points around the first crossing, on both sides", () => {
    const w = orThrow(
      rayWidth(
        [
          { distance: -2, value: 9 },
          { distance: -1, value: 1.2 },
          { distance: 0, value: 1 },
          { distance: 1, value: 1.5 },
          { distance: 2, value: 3 },
          { distance: 3, value: 1 },
        ],
        { delta: 1 },
      ),
    );
    expect(w.threshold).toBe(2);
    expect(w.positive).toEqual({ width: 1 + (2 - 1.5) / (3 - 1.5), exceeded: true, reach: 3 });
    expect(w.negative.width).toBeCloseTo(1 + (2 - 1.2) / (9 - 1.2), 12);
  });

  it("reports null with exceeded: false and the reach when the threshold is never crossed", () => {
    const w = orThrow(
      rayWidth(
        [
          { distance: 0, value: 1 },
          { distance: 4, value: 1.9 },
        ],
        { delta: 1 },
      ),
    );
    expect(w.positive).toEqual({ width: null, exceeded: false, reach: 4 });
    expect(w.negative).toEqual({ width: null, exceeded: false, reach: 0 });
  });

  it("treats a non-finite value as exceeding, at the last finite point", () => {
    const w = orThrow(
      rayWidth(
        [
          { distance: 0, value: 1 },
          { distance: 1, value: 1.1 },
          { distance: 2, value: null },
        ],
        { delta: 1 },
      ),
    );
    expect(w.positive).toEqual({ width: 1, exceeded: true, reach: 2 });
  });

  it("needs a center value and a positive delta", () => {
    const noCenter = rayWidth([{ distance: 1, value: 1 }], { delta: 1 });
    expect(E.isLeft(noCenter) && noCenter.left.message).toMatch(/distance 0.*centerValue/);
    expect(
      orThrow(rayWidth([{ distance: 1, value: 3 }], { delta: 1, centerValue: 1 })).positive.width,
    ).toBe(0.5);
    expect(() => rayWidth([{ distance: 0, value: 1 }], { delta: 0 })).toThrow(
      expect.objectContaining({ _tag: "GeometryError", kind: "config", path: "delta" }),
    );
  });
});

describe("summarizeWidths", () => {
  it("gives type-7 quartiles, with never-exceeded widths as censored (+infinity)", () => {
    expect(summarizeWidths([4, 1, 3, 2])).toEqual({
      count: 4,
      censored: 0,
      min: 1,
      q1: 1.75,
      median: 2.5,
      q3: 3.25,
      max: 4,
    });
    expect(summarizeWidths([1, 2, 3, null])).toEqual({
      count: 4,
      censored: 1,
      min: 1,
      q1: 1.75,
      median: 2.5,
      q3: null,
      max: null,
    });
  });
});

describe("width on a quadratic bowl", () => {
  it("matches sqrt(2 delta / d^T H d) for random unit rays from the minimum", async () => {
    const center = weightsOf(new Array(N).fill(0));
    const delta = 0.3;
    const step = 0.005;
    const rays: PlanResults[] = [];
    const exact: number[] = [];
    for (let seed = 0; seed < 4; seed++) {
      const d = randomDirection(center, seed);
      const k = curvatureAlong(flatten(d));
      exact.push(Math.sqrt((2 * delta) / k));
      const plan = orThrow(rayFrom(center, d, linspace(-1.5, 1.5, 2 * Math.round(1.5 / step) + 1)));
      rays.push(orThrow(await evaluatePlanWith(plan, (w) => ({ trainLoss: bowlLoss(w) }))));
      disposePlan(plan);
      disposeWeights(d);
    }
    const widths = orThrow(widthsOfRays(rays, { metric: "trainLoss", delta }));
    expect(widths).toHaveLength(8);
    // Linear interpolation of a convex function crosses early by at most the grid step; with
    // curvature k it is within k * step^2 / (8 * slope) of the true crossing: < 1e-4 here.
    widths.forEach((w, i) => {
      expect(w).not.toBeNull();
      expect(Math.abs(w! - exact[Math.floor(i / 2)]!)).toBeLessThan(1e-4);
      expect(w!).toBeLessThanOrEqual(exact[Math.floor(i / 2)]! + 1e-6);
    });
    const summary = summarizeWidths(widths);
    const sorted = [...widths].sort((a, b) => a! - b!) as number[];
    expect(summary.median).toBeCloseTo((sorted[3]! + sorted[4]!) / 2, 12);
    disposeWeights(center);
  });
});
