/**
 * Projection of weights onto a plane's `(u, v)` basis: where a weight set (a training iterate, a
 * snapshot, the SWA mean) lies in a {@link PlanePlan}'s coordinates, and how far it is from the
 * plane.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Weights } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import type { GeometryError } from "./errors.js";
import type { PlanePlan } from "./plans.js";
import { checkSameStructure } from "./structure.js";

// -------------------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------------------

/**
 * A point's place relative to a plane `P(x, y) = w1 + x u + y v`: its coordinates
 * `x = <w - w1, u>`, `y = <w - w1, v>` (the same axes as the plane's grid and `anchors`), and
 * `residual = |w - w1 - x u - y v|`, its Euclidean distance from the plane.
 */
export interface Projection {
  readonly x: number;
  readonly y: number;
  readonly residual: number;
}

// -------------------------------------------------------------------------------------------------
// internal
// -------------------------------------------------------------------------------------------------

/** A tensor's values as float32 (read without creating a lasting tensor). */
const float32Data = (t: tf.Tensor): Float32Array => {
  if (t.dtype === "float32") return t.dataSync() as Float32Array;
  const c = tf.cast(t, "float32");
  try {
    return c.dataSync() as Float32Array;
  } finally {
    c.dispose();
  }
};

interface Basis {
  readonly keys: readonly string[];
  readonly origin: readonly Float32Array[];
  readonly u: readonly Float32Array[];
  readonly v: readonly Float32Array[];
}

const readBasis = (plane: PlanePlan): Basis => {
  const keys = Object.keys(plane.origin).sort();
  return {
    keys,
    origin: keys.map((k) => float32Data(plane.origin[k]!)),
    u: keys.map((k) => float32Data(plane.u[k]!)),
    v: keys.map((k) => float32Data(plane.v[k]!)),
  };
};

/**
 * Projects with the plane's float32 origin and basis, accumulating in float64: `d = w - w1`
 * entry by entry (exact in float64 for float32 inputs), the dot products `<d, u>`, `<d, v>` as
 * float64 sums, then the residual vector `d - x u - y v` entry by entry and its float64 norm. The
 * residual is not `sqrt(|d|^2 - x^2 - y^2)`, which cancels catastrophically near the plane.
 */
const projectWith = (basis: Basis, w: Weights): Projection => {
  const data = basis.keys.map((k) => float32Data(w[k]!));
  let x = 0;
  let y = 0;
  basis.keys.forEach((_, i) => {
    const a = data[i]!;
    const o = basis.origin[i]!;
    const u = basis.u[i]!;
    const v = basis.v[i]!;
    for (let j = 0; j < a.length; j++) {
      const d = a[j]! - o[j]!;
      x += d * u[j]!;
      y += d * v[j]!;
    }
  });
  let r2 = 0;
  basis.keys.forEach((_, i) => {
    const a = data[i]!;
    const o = basis.origin[i]!;
    const u = basis.u[i]!;
    const v = basis.v[i]!;
    for (let j = 0; j < a.length; j++) {
      const r = a[j]! - o[j]! - x * u[j]! - y * v[j]!;
      r2 += r * r;
    }
  });
  return { x, y, residual: Math.sqrt(r2) };
};

// -------------------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------------------

/**
 * The coordinates of `w` in the plane's basis, relative to its origin `w1`, and its distance from
 * the plane (see {@link Projection}). The plane's anchors project to its `anchors` coordinates
 * with residual 0 (up to float32 rounding of the basis). Entries are float32, sums float64; no
 * tensor is kept. A `w` with other keys or shapes than the plane is a `Left`.
 *
 * @example
 * const p = projectOnto(plane, wSwa); // Right({ x: 12.1, y: 3.4, residual: 0.8 })
 */
export const projectOnto = (plane: PlanePlan, w: Weights): E.Either<GeometryError, Projection> => {
  const c = checkSameStructure(plane.origin, w, ["plane", "w"]);
  if (E.isLeft(c)) return c;
  return E.right(projectWith(readBasis(plane), w));
};

/**
 * {@link projectOnto} for many weight sets (e.g. a training trajectory), reading the plane's
 * basis once; a `Left` names the first set that does not match the plane.
 *
 * @example
 * const path = projectAllOnto(plane, snapshots); // Right([{ x, y, residual }, ...])
 */
export const projectAllOnto = (
  plane: PlanePlan,
  ws: readonly Weights[],
): E.Either<GeometryError, Projection[]> => {
  for (const [i, w] of ws.entries()) {
    const c = checkSameStructure(plane.origin, w, ["plane", `ws[${i}]`]);
    if (E.isLeft(c)) return c;
  }
  const basis = readBasis(plane);
  return E.right(ws.map((w) => projectWith(basis, w)));
};
