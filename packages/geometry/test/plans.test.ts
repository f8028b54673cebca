import * as tf from "@tensorflow/tfjs";
import { orThrow } from "@wider/errors";
import { disposeWeights, dot, flatten, map, norm, sub, type Weights } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import {
  disposePlan,
  linspace,
  planeThrough,
  planFingerprint,
  planWeights,
  pointWeights,
  rayFrom,
  segment,
} from "../src/index.js";
import { pseudoRandom, tensorCount, weightsOf } from "./quadratic.js";

const maxRelDiff = (a: Weights, b: Weights): number => {
  const fa = flatten(a);
  const fb = flatten(b);
  let worst = 0;
  const scale = Math.max(...Array.from(fb, Math.abs), 1e-12);
  fa.forEach((x, i) => {
    worst = Math.max(worst, Math.abs(x - fb[i]!) / scale);
  });
  return worst;
};

const CONFIG = expect.objectContaining({ _tag: "GeometryError", kind: "config" });

describe("rayFrom", () => {
  it("makes center + t * direction on demand and reports t * |direction| as distance", () => {
    const c = weightsOf(pseudoRandom(1));
    const dFlat = pseudoRandom(2);
    const d = weightsOf(dFlat);
    const dn = Math.hypot(...dFlat);
    const before = tensorCount();
    const plan = orThrow(rayFrom(c, d, [-2, 0, 0.5, 3]));
    expect(plan.points.map((p) => p.distance)).toEqual(
      [-2, 0, 0.5, 3].map((t) => t * plan.directionNorm),
    );
    expect(plan.directionNorm).toBeCloseTo(dn, 5);
    const cFlat = flatten(c);
    for (const p of plan.points) {
      const w = pointWeights(plan, p.index);
      const got = flatten(w);
      got.forEach((x, i) => {
        expect(x).toBeCloseTo(cFlat[i]! + p.t * dFlat[i]!, 5);
      });
      disposeWeights(w);
    }
    disposePlan(plan);
    expect(tensorCount()).toBe(before);
    // The plan worked on copies: the caller's tensors are still alive.
    expect(norm(c)).toBeGreaterThan(0);
    disposeWeights(c);
    disposeWeights(d);
  });

  it("refuses mismatched weights and a zero direction (Left), throws on non-finite distances", () => {
    const c = weightsOf(pseudoRandom(1));
    const z = map(c, (t) => tf.zerosLike(t));
    const other = { a: c.a! };
    expect(E.isLeft(rayFrom(c, other, [1]))).toBe(true);
    expect(() => rayFrom(c, c, [0, Number.NaN])).toThrow(/distances\[1\] is NaN/);
    expect(() => rayFrom(c, c, [])).toThrow(CONFIG);
    const zero = rayFrom(c, z, [1]);
    expect(E.isLeft(zero) && zero.left.kind).toBe("degenerate");
    disposeWeights(c);
    disposeWeights(z);
  });
});

describe("segment", () => {
  it("is (1 - t) a + t b with ts beyond [0, 1] and signed distance t |b - a| from a", () => {
    const a = weightsOf(pseudoRandom(3));
    const b = weightsOf(pseudoRandom(4));
    const fa = flatten(a);
    const fb = flatten(b);
    const len = Math.hypot(...Array.from(fa, (x, i) => fb[i]! - x));
    const plan = orThrow(segment(a, b, [-0.5, 0, 1, 1.5]));
    expect(plan.length).toBeCloseTo(len, 5);
    expect(plan.points.map((p) => p.distance)).toEqual(
      [-0.5, 0, 1, 1.5].map((t) => t * plan.length),
    );
    const before = tensorCount();
    for (const { point, weights } of planWeights(plan)) {
      const got = flatten(weights);
      const t = (point as { t: number }).t;
      got.forEach((x, i) => {
        expect(x).toBeCloseTo((1 - t) * fa[i]! + t * fb[i]!, 5);
      });
    }
    expect(tensorCount()).toBe(before);
    disposePlan(plan);
    disposeWeights(a);
    disposeWeights(b);
  });
});

describe("planeThrough", () => {
  const w1 = weightsOf(pseudoRandom(5));
  const w2 = weightsOf(pseudoRandom(6));
  const w3 = weightsOf(pseudoRandom(7));

  it("has an orthonormal basis and passes through the three points at their coordinates", () => {
    const before = tensorCount();
    const plan = orThrow(planeThrough(w1, w2, w3, { grid: [5, 4], margin: 0.25 }));
    expect(Math.abs(norm(plan.u) - 1)).toBeLessThan(1e-5);
    expect(Math.abs(norm(plan.v) - 1)).toBeLessThan(1e-5);
    expect(Math.abs(dot(plan.u, plan.v))).toBeLessThan(1e-5);
    const d12 = sub(w2, w1);
    expect(plan.anchors[1][0]).toBeCloseTo(norm(d12), 5);
    disposeWeights(d12);
    for (const [i, w] of [w1, w2, w3].entries()) {
      const [x, y] = plan.anchors[i]!;
      const rebuilt = map(plan.origin, (o, k) =>
        tf.tidy(() => tf.add(o, tf.add(tf.mul(plan.u[k]!, x), tf.mul(plan.v[k]!, y)))),
      );
      expect(maxRelDiff(rebuilt, w)).toBeLessThan(1e-5);
      disposeWeights(rebuilt);
    }
    // Grid: 5 x 4 points, row-major, spanning the anchors' box widened by 25 % of its extent.
    expect(plan.points).toHaveLength(20);
    const xsA = plan.anchors.map((p) => p[0]);
    const ysA = plan.anchors.map((p) => p[1]);
    const ex = Math.max(...xsA) - Math.min(...xsA);
    const ey = Math.max(...ysA) - Math.min(...ysA);
    expect(plan.xs[0]).toBeCloseTo(Math.min(...xsA) - 0.25 * ex, 9);
    expect(plan.xs[4]).toBeCloseTo(Math.max(...xsA) + 0.25 * ex, 9);
    expect(plan.ys[0]).toBeCloseTo(-0.25 * ey, 9);
    expect(plan.ys[3]).toBeCloseTo(1.25 * ey, 9);
    expect(plan.points[7]).toMatchObject({
      index: 7,
      row: 1,
      col: 2,
      x: plan.xs[2],
      y: plan.ys[1],
    });
    // A grid point's weights are origin + x u + y v.
    const p = pointWeights(plan, 7);
    const q = map(plan.origin, (o, k) =>
      tf.tidy(() =>
        tf.add(o, tf.add(tf.mul(plan.u[k]!, plan.xs[2]!), tf.mul(plan.v[k]!, plan.ys[1]!))),
      ),
    );
    expect(maxRelDiff(p, q)).toBeLessThan(1e-6);
    disposeWeights(p);
    disposeWeights(q);
    disposePlan(plan);
    expect(tensorCount()).toBe(before);
  });

  it("defaults to the authors' 21 x 21 grid", () => {
    const plan = orThrow(planeThrough(w1, w2, w3));
    expect([plan.xs.length, plan.ys.length]).toEqual([21, 21]);
    disposePlan(plan);
  });

  it("refuses collinear points and bad options", () => {
    const mid = map(w1, (t, k) => tf.tidy(() => tf.add(tf.mul(t, 0.3), tf.mul(w2[k]!, 0.7))));
    const r = planeThrough(w1, w2, mid);
    expect(E.isLeft(r) && r.left.kind).toBe("degenerate");
    const same = planeThrough(w1, w1, w3);
    expect(E.isLeft(same) && same.left.kind).toBe("degenerate");
    expect(() => planeThrough(w1, w2, w3, { grid: 1 })).toThrow(/grid is 1/);
    expect(() => planeThrough(w1, w2, w3, { margin: -1 })).toThrow(CONFIG);
    disposeWeights(mid);
  });

  it("gives equal fingerprints for equal plans and different ones otherwise", () => {
    const p1 = orThrow(planeThrough(w1, w2, w3, { grid: 3 }));
    const p2 = orThrow(planeThrough(w1, w2, w3, { grid: 3 }));
    const p3 = orThrow(planeThrough(w1, w3, w2, { grid: 3 }));
    const p4 = orThrow(planeThrough(w1, w2, w3, { grid: 4 }));
    expect(planFingerprint(p1)).toBe(planFingerprint(p2));
    expect(planFingerprint(p1)).not.toBe(planFingerprint(p3));
    expect(planFingerprint(p1)).not.toBe(planFingerprint(p4));
    for (const p of [p1, p2, p3, p4]) disposePlan(p);
  });
});

describe("linspace", () => {
  it("includes both ends", () => {
    expect(linspace(-60, 60, 31)).toHaveLength(31);
    expect(linspace(-60, 60, 31)[15]).toBe(0);
    expect(linspace(0, 1, 5)).toEqual([0, 0.25, 0.5, 0.75, 1]);
  });
});
