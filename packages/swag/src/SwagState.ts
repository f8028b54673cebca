/**
 * SWAG collection (Maddox et al. 2019), optax style: a pair of pure functions `init()` and
 * `update(state, weights) -> state` keeping the first moment (the SWA mean), the second moment and
 * the last K deviations of the collected weights.
 *
 * Memory rule (the one of `@wider/averaging`): `update(state, w)` CONSUMES `state`: on success it
 * disposes the old `mean` and `sqMean` and the deviation that falls out of the ring, hands the
 * other deviations over to the new state, and returns a state the caller owns; the last state is
 * freed with {@link disposeSwagState}. `update` never disposes `w`. If `update` throws (keys or
 * shapes differ from the running mean), `state` is left intact.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";
import { swa } from "@wider/averaging";
import { disposeWeights, type Weights } from "@wider/weights";
import { fail } from "./errors.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * The SWAG statistics after `n` collected weight sets (float32 tensors keyed like the weights):
 * `mean` = E[w] (the SWA solution), `sqMean` = E[w^2], `deviations` = the last
 * `min(n, maxRank)` deviations `w_i - mean_i` (each taken with the mean just updated with
 * `w_i`, as the authors do), oldest first: the rows of the low-rank factor `D`.
 */
export interface SwagState {
  readonly n: number;
  readonly mean: Weights | null;
  readonly sqMean: Weights | null;
  readonly deviations: readonly Weights[];
  /** K, the most deviations kept (the authors' `max_num_models`); sampling divides by `K - 1`. */
  readonly maxRank: number;
}

/** A SWAG collector: `init()` then `update(state, w)` per collected model. */
export interface Swag {
  readonly init: () => SwagState;
  readonly update: (state: SwagState, weights: Weights) => SwagState;
}

/** Options of {@link swag}. */
export interface SwagOptions {
  /** K, how many of the latest deviations to keep (default 20, as in the paper); at least 2. */
  readonly maxRank?: number;
}

/** The paper's K: deviations kept for the low-rank part of the covariance. */
export const DEFAULT_MAX_RANK = 20;

// -------------------------------------------------------------------------------------
// internal
// -------------------------------------------------------------------------------------

const sameShape = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/** Throws unless `w` has exactly the keys and shapes of `like` (`what` names the caller). */
export const checkLike = (like: Weights, w: Weights, what: string): void => {
  const missing = Object.keys(like).filter((k) => !(k in w));
  const extra = Object.keys(w).filter((k) => !(k in like));
  if (missing.length > 0 || extra.length > 0) {
    fail(
      "shape",
      `${what}: the weights do not match the SWAG mean (missing: [${missing.slice(0, 4).join(", ")}], ` +
        `unexpected: [${extra.slice(0, 4).join(", ")}]); pass weights of the same model and include`,
      {
        ...((missing[0] ?? extra[0]) === undefined ? {} : { path: missing[0] ?? extra[0] }),
        fix: "pass weights of the same model and include",
      },
    );
  }
  for (const [k, t] of Object.entries(like)) {
    const s = w[k]!.shape;
    if (!sameShape(t.shape, s)) {
      fail("shape", `${what}: "${k}" has shape [${s}] but the SWAG mean has [${t.shape}]`, {
        path: k,
        value: s,
        fix: `a tensor of shape [${t.shape}]`,
      });
    }
  }
};

const toFloat32 = (t: tf.Tensor): tf.Tensor => (t.dtype === "float32" ? t : tf.cast(t, "float32"));

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** The empty state (nothing collected) for a given K. */
export const emptySwagState = (maxRank: number = DEFAULT_MAX_RANK): SwagState => ({
  n: 0,
  mean: null,
  sqMean: null,
  deviations: [],
  maxRank,
});

/** Throws a `config` SwagError unless `maxRank` is an integer >= 2. */
export const checkMaxRank = (maxRank: number): void => {
  if (!Number.isSafeInteger(maxRank) || maxRank < 2) {
    fail(
      "config",
      `maxRank is ${maxRank}; use an integer >= 2 (samples divide D^T z2 by sqrt(maxRank - 1)); the paper uses 20`,
      { path: "maxRank", value: maxRank, fix: "an integer >= 2 (the paper uses 20)" },
    );
  }
};

/**
 * The SWAG collector. Both moments are running means with `@wider/averaging`'s `swa()` rule
 * `m + (x - m) / (n + 1)` in float32 (first update copies; the one-pass kernel where the backend
 * registers it), on `w` and on `w^2`; the authors write `m * n / (n + 1) + x / (n + 1)`, the same
 * number up to float32 rounding (the fixtures agree to ~1e-7 relative). Then the deviation
 * `w - mean` (new mean) joins the ring, and the oldest leaves it past `maxRank`.
 *
 * @example
 * const collector = swag(); // K = 20
 * let s = collector.init();
 * s = collector.update(s, w1); // s.mean = w1, s.sqMean = w1^2, s.deviations = [0]
 * s = collector.update(s, w2); // s.mean = (w1 + w2) / 2, deviations [0, (w2 - w1) / 2]
 */
export const swag = (options: SwagOptions = {}): Swag => {
  const maxRank = options.maxRank ?? DEFAULT_MAX_RANK;
  checkMaxRank(maxRank);
  const average = swa({ buffers: "average" });
  const init = (): SwagState => emptySwagState(maxRank);
  const update = (state: SwagState, w: Weights): SwagState => {
    if (state.maxRank !== maxRank) {
      fail(
        "config",
        `update: the state keeps ${state.maxRank} deviations but this collector ${maxRank}; use swag({ maxRank: ${state.maxRank} })`,
        { path: "maxRank", value: maxRank, fix: `swag({ maxRank: ${state.maxRank} })` },
      );
    }
    if (state.mean !== null) checkLike(state.mean, w, "update");
    // Past the check nothing can fail on user input, so consuming the old tensors is safe.
    const squares: Weights = tf.tidy(() =>
      Object.fromEntries(Object.entries(w).map(([k, t]) => [k, tf.square(toFloat32(t))])),
    );
    let mean: Weights;
    let sqMean: Weights;
    try {
      sqMean = average.update({ n: state.n, mean: state.sqMean }, squares).mean!;
    } finally {
      disposeWeights(squares);
    }
    try {
      mean = average.update({ n: state.n, mean: state.mean }, w).mean!;
    } catch (e) {
      disposeWeights(sqMean);
      throw e;
    }
    const deviation: Weights = tf.tidy(() =>
      Object.fromEntries(Object.entries(w).map(([k, t]) => [k, tf.sub(toFloat32(t), mean[k]!)])),
    );
    const kept =
      state.deviations.length + 1 > maxRank ? state.deviations.slice(1) : state.deviations;
    if (kept !== state.deviations) disposeWeights(state.deviations[0]!);
    return { n: state.n + 1, mean, sqMean, deviations: [...kept, deviation], maxRank };
  };
  return { init, update };
};

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

/** Frees every tensor of a state (the last one; earlier states were consumed by `update`). */
export const disposeSwagState = (state: SwagState): void => {
  if (state.mean !== null) disposeWeights(state.mean);
  if (state.sqMean !== null) disposeWeights(state.sqMean);
  for (const d of state.deviations) disposeWeights(d);
};
