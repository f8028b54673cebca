/**
 * Directions in weight space: uniform on the unit sphere, filter-normalised (Li et al. 2018),
 * and orthogonalised against a set (Gram–Schmidt). All are pure functions of their inputs and an
 * explicit seed; each returns new tensors the caller owns (free them with `disposeWeights`).
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";
import { raise } from "@wider/errors";
import {
  axpy,
  disposeWeights,
  dot,
  map,
  norm,
  randomNormalLike,
  scale,
  type Weights,
} from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import type { GeometryError } from "./errors.js";
import { checkSameStructure } from "./structure.js";

// -------------------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------------------

/**
 * A direction uniform on the unit sphere over all tensors of `like` taken together:
 * `z ~ N(0, I)` from `randomNormalLike(like, seed)`, divided by its global norm. The caller owns it.
 *
 * @example
 * const d = randomDirection(wSwa, 1); // norm(d) === 1 (to float32 precision)
 */
export const randomDirection = (like: Weights, seed: number): Weights => {
  const z = randomNormalLike(like, seed);
  const n = norm(z);
  const d = scale(z, 1 / n);
  disposeWeights(z);
  return d;
};

/**
 * Filter normalisation (Li et al. 2018): per tensor of rank >= 2, each filter of `direction` — the
 * slice along the OUTPUT axis, which is the last axis for tfjs dense kernels `[in, out]` and conv
 * kernels `[h, w, in, out]` — is rescaled to the norm of the same filter of `weights`
 * (`d_f * |w_f| / (|d_f| + 1e-10)`, as in the authors' code). Tensors of rank 0 or 1 (biases,
 * BatchNorm gamma/beta and moving statistics) are set to 0. The result is not a unit vector.
 * Left when the two sets differ in keys or shapes. The caller owns the result.
 */
export const filterNormalized = (
  direction: Weights,
  weights: Weights,
): E.Either<GeometryError, Weights> => {
  const checked = checkSameStructure(weights, direction, ["weights", "direction"]);
  if (E.isLeft(checked)) return checked;
  return E.right(
    map(direction, (d, key) =>
      tf.tidy(() => {
        if (d.rank <= 1) return tf.zerosLike(d);
        const w = weights[key]!;
        const out = d.shape[d.rank - 1]!;
        const d2 = tf.reshape(d, [-1, out]);
        const w2 = tf.reshape(w, [-1, out]);
        const dn = tf.norm(d2, "euclidean", 0, true);
        const wn = tf.norm(w2, "euclidean", 0, true);
        return tf.reshape(tf.mul(d2, tf.div(wn, tf.add(dn, 1e-10))), d.shape);
      }),
    ),
  );
};

/**
 * A random filter-normalised direction at `weights`: `filterNormalized(randomNormalLike(weights,
 * seed), weights)`, the directions of Li et al.'s loss-landscape plots. The caller owns it.
 */
export const randomFilterNormalizedDirection = (weights: Weights, seed: number): Weights => {
  const z = randomNormalLike(weights, seed);
  const r = filterNormalized(z, weights);
  disposeWeights(z);
  // Same structure by construction: randomNormalLike copies keys and shapes of `weights`.
  if (r._tag === "Left") return raise(r.left);
  return r.right;
};

// -------------------------------------------------------------------------------------------------
// combinators
// -------------------------------------------------------------------------------------------------

/**
 * The component of `direction` orthogonal to every vector of `against` (Gram–Schmidt: `against` is
 * first orthonormalised, vectors in the span of earlier ones or of norm 0 are skipped, then each
 * projection is subtracted). The result keeps its length along the orthogonal complement; rescale
 * it (e.g. `scale(d, 1 / norm(d))`) for a unit direction. Left on mismatched keys or shapes.
 * The caller owns the result.
 *
 * @example
 * const d = orthogonalize(randomDirection(w, 3), [sub(wSgd, wSwa)]); // d . (wSgd - wSwa) ~ 0
 */
export const orthogonalize = (
  direction: Weights,
  against: readonly Weights[],
): E.Either<GeometryError, Weights> => {
  for (const [i, a] of against.entries()) {
    const c = checkSameStructure(direction, a, ["direction", `against[${i}]`]);
    if (c._tag === "Left") return c;
  }
  // Orthonormal basis of span(against), by modified Gram–Schmidt.
  const basis: Weights[] = [];
  try {
    for (const a of against) {
      const scaleA = norm(a);
      if (!(scaleA > 0)) continue;
      let r = scale(a, 1);
      for (const q of basis) {
        const next = axpy(-dot(q, r), q, r);
        disposeWeights(r);
        r = next;
      }
      const rn = norm(r);
      if (rn <= 1e-6 * scaleA) {
        disposeWeights(r);
        continue;
      }
      basis.push(scale(r, 1 / rn));
      disposeWeights(r);
    }
    let d = scale(direction, 1);
    for (const q of basis) {
      const next = axpy(-dot(q, d), q, d);
      disposeWeights(d);
      d = next;
    }
    return E.right(d);
  } finally {
    for (const q of basis) disposeWeights(q);
  }
};
