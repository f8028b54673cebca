import * as tf from "@tensorflow/tfjs";
import type { Weights } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import {
  disposePlan,
  type PlanePlan,
  planeThrough,
  projectAllOnto,
  projectOnto,
} from "../src/index.js";
import { pseudoRandom } from "./quadratic.js";

// A weight set of 20,000 entries in two tensors (keys "a" [100, 150] and "b" [5000]), so float32
// accumulation would show; every vector below is float32-rounded first, so the float64 oracle and
// the code see the same inputs.
const NA = 100 * 150;
const NB = 5000;
const N = NA + NB;

const f32 = (xs: readonly number[]): number[] => xs.map((x) => Math.fround(x));
const toWeights = (flat: readonly number[]): Weights => ({
  a: tf.tensor(flat.slice(0, NA), [100, 150], "float32"),
  b: tf.tensor(flat.slice(NA), [NB], "float32"),
});

// ---- the float64 oracle: plain JS arrays, the plane's definition (REFERENCE §4) written out ----
const dot = (p: readonly number[], q: readonly number[]): number =>
  p.reduce((s, pi, i) => s + pi * q[i]!, 0);
const sub = (p: readonly number[], q: readonly number[]): number[] => p.map((pi, i) => pi - q[i]!);
const axpy = (a: number, p: readonly number[], q: readonly number[]): number[] =>
  q.map((qi, i) => qi + a * p[i]!);
const norm = (p: readonly number[]): number => Math.sqrt(dot(p, p));
const unit = (p: readonly number[]): number[] => p.map((x) => x / norm(p));

const oracleBasis = (w1: number[], w2: number[], w3: number[]) => {
  const u = unit(sub(w2, w1));
  const e3 = sub(w3, w1);
  const v = unit(axpy(-dot(e3, u), u, e3));
  return { u, v };
};
const oracleProject = (w1: number[], u: number[], v: number[], w: number[]) => {
  const d = sub(w, w1);
  const x = dot(d, u);
  const y = dot(d, v);
  return { x, y, residual: norm(axpy(-y, v, axpy(-x, u, d))) };
};

// Anchors: a common offset (|w| large next to |w_i - w_j|, as for trained networks) plus spread.
const base = pseudoRandom(7, N).map((x) => 3 * x);
const w1 = f32(axpy(0.1, pseudoRandom(1, N), base));
const w2 = f32(axpy(0.1, pseudoRandom(2, N), base));
const w3 = f32(axpy(0.1, pseudoRandom(3, N), base));
const { u: U, v: V } = oracleBasis(w1, w2, w3);
const SCALE = norm(sub(w2, w1)); // ~ 0.1 * sqrt(2 N / 3) ~ 11.5
// Tolerance: float32 inputs and a float32 basis; the coordinates and residuals agree with the
// float64 oracle to 1e-6 * |w2 - w1| (observed ~1.5e-8 relative, dominated by the float32 basis).
const TOL = 1e-6 * SCALE;

const withPlane = <A>(f: (plane: PlanePlan) => A): A => {
  const [a, b, c] = [w1, w2, w3].map(toWeights) as [Weights, Weights, Weights];
  const r = planeThrough(a, b, c, { grid: 3 });
  for (const w of [a, b, c]) tf.dispose(Object.values(w));
  if (E.isLeft(r)) throw new Error(r.left.message);
  try {
    return f(r.right);
  } finally {
    disposePlan(r.right);
  }
};

const project = (plane: PlanePlan, flat: number[]) => {
  const w = toWeights(flat);
  try {
    const r = projectOnto(plane, w);
    if (E.isLeft(r)) throw new Error(r.left.message);
    return r.right;
  } finally {
    tf.dispose(Object.values(w));
  }
};

describe("projectOnto", () => {
  it("puts the three anchors at their coordinates with zero residual (float64 oracle, 1e-6 |w2 - w1|)", () => {
    withPlane((plane) => {
      const before = tf.memory().numTensors;
      const want = [w1, w2, w3].map((w) => oracleProject(w1, U, V, w));
      expect(want[0]).toEqual({ x: 0, y: 0, residual: 0 });
      expect(Math.abs(want[1]!.x - SCALE)).toBeLessThan(1e-9 * SCALE);
      for (const [i, w] of [w1, w2, w3].entries()) {
        const got = project(plane, w);
        expect(Math.abs(got.x - want[i]!.x), `x of w${i + 1}`).toBeLessThan(TOL);
        expect(Math.abs(got.y - want[i]!.y), `y of w${i + 1}`).toBeLessThan(TOL);
        expect(got.residual, `residual of w${i + 1}`).toBeLessThan(TOL);
        // And at the plan's own anchor coordinates (computed by planeThrough with float32 sums).
        const [ax, ay] = plane.anchors[i]!;
        expect(Math.abs(got.x - ax)).toBeLessThan(1e-5 * SCALE);
        expect(Math.abs(got.y - ay)).toBeLessThan(1e-5 * SCALE);
      }
      expect(tf.memory().numTensors).toBe(before);
    });
  });

  it("gives a point built at a known distance off the plane that distance, and its coordinates", () => {
    // n: a unit vector orthogonal to u and v (Gram–Schmidt of a random vector, float64).
    const z = pseudoRandom(11, N);
    const n = unit(axpy(-dot(z, V), V, axpy(-dot(z, U), U, z)));
    expect(Math.abs(dot(n, U)) + Math.abs(dot(n, V))).toBeLessThan(1e-12);
    withPlane((plane) => {
      for (const [a, b, c] of [
        [0.3, -0.7, 2.5],
        [-4, 9, 0.01],
        [12, 1, 40],
      ] as const) {
        const w = f32(axpy(c, n, axpy(b, V, axpy(a, U, w1))));
        const got = project(plane, w);
        const want = oracleProject(w1, U, V, w); // the same float32 point, in float64
        expect(Math.abs(got.x - want.x)).toBeLessThan(TOL);
        expect(Math.abs(got.y - want.y)).toBeLessThan(TOL);
        expect(Math.abs(got.residual - want.residual)).toBeLessThan(TOL);
        // Against the construction: float32 rounding of w moves it by at most |w| * 2^-24.
        const rounding = norm(w) * 2 ** -24;
        expect(Math.abs(got.x - a)).toBeLessThan(TOL + rounding);
        expect(Math.abs(got.y - b)).toBeLessThan(TOL + rounding);
        expect(Math.abs(got.residual - c)).toBeLessThan(TOL + rounding);
      }
    });
  });

  it("projectAllOnto gives projectOnto's results for each, and Lefts for a mismatched set", () => {
    withPlane((plane) => {
      const flats = [w1, w3, f32(axpy(1, U, w2))];
      const ws = flats.map(toWeights);
      const before = tf.memory().numTensors;
      const all = projectAllOnto(plane, ws);
      expect(E.isRight(all) && all.right).toEqual(flats.map((f) => project(plane, f)));
      const bad = { a: tf.zeros([100, 150]), b: tf.zeros([4999]) };
      const one = projectOnto(plane, bad);
      expect(E.isLeft(one) && one.left).toMatchObject({ kind: "shape" });
      expect(E.isLeft(one) && one.left.message).toMatch(
        /"b" has shape \[5000\] in plane but \[4999\] in w/,
      );
      const many = projectAllOnto(plane, [...ws, bad]);
      expect(E.isLeft(many) && many.left.message).toMatch(/in ws\[3\]/);
      tf.dispose(Object.values(bad));
      expect(tf.memory().numTensors).toBe(before);
      for (const w of ws) tf.dispose(Object.values(w));
    });
  });
});
