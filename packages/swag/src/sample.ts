/**
 * Sampling weights from the SWAG posterior `N(mean, scale * (diag(var) + D^T D / (K - 1)))`.
 *
 * The authors' default sampler (`sample_fullrank` in `swag/posteriors/swag.py`) computes
 * `mean + sqrt(scale) * (sqrt(var) * z1 + D^T z2 / sqrt(K - 1))` with `z1 ~ N(0, I)` over the
 * weights and `z2 ~ N(0, I)` over the stored deviations; SWAG-Diagonal keeps only the first term,
 * still multiplied by `sqrt(scale)` (their blockwise sampler instead multiplies by `scale` itself;
 * we follow the default). `K` is the configured maximum (`maxRank`), also while fewer than `K`
 * deviations are stored, exactly as the authors divide by `max_num_models - 1`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { randomNormalLike, type Weights } from "@wider/weights";
import { fail } from "./errors.js";
import { checkLike, type SwagState } from "./SwagState.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** `"lowrank"` (SWAG, the default): diagonal plus low-rank covariance; `"diag"`: SWAG-Diagonal. */
export type SwagRank = "diag" | "lowrank";

/** Options shared by the samplers. */
export interface SampleOptions {
  /** The covariance scale `s` (default 0.5, the paper's); 0 gives the SWA mean itself. */
  readonly scale?: number;
  /** Which covariance to sample from (default `"lowrank"`). */
  readonly rank?: SwagRank;
}

/** Explicit standard-normal draws for {@link swagSample}. */
export interface Draws {
  /** Shaped like the weights (same keys and shapes as `state.mean`). */
  readonly z1: Weights;
  /** One value per stored deviation (`state.deviations.length`); ignored for `"diag"`. */
  readonly z2: ArrayLike<number>;
}

/** The paper's covariance scale. */
export const DEFAULT_SCALE = 0.5;

/** The floor of the diagonal variance (the authors' `var_clamp`). */
export const VARIANCE_FLOOR = 1e-30;

// -------------------------------------------------------------------------------------
// internal
// -------------------------------------------------------------------------------------

const moments = (state: SwagState, what: string): { mean: Weights; sqMean: Weights } => {
  if (state.mean === null || state.sqMean === null || state.n === 0) {
    fail("config", `${what}: the SWAG state is empty; collect at least one weight set first`, {
      path: "state",
      fix: "collect at least one weight set first",
    });
  }
  return { mean: state.mean, sqMean: state.sqMean };
};

const checkScale = (scale: number): void => {
  if (!(Number.isFinite(scale) && scale >= 0)) {
    fail("config", `scale is ${scale}; use a finite number >= 0 (the paper uses 0.5)`, {
      path: "scale",
      value: scale,
      fix: "a finite number >= 0 (the paper uses 0.5)",
    });
  }
};

const checkRank = (rank: string): void => {
  if (rank !== "diag" && rank !== "lowrank") {
    fail("config", `rank is ${JSON.stringify(rank)}; use "diag" or "lowrank"`, {
      path: "rank",
      value: rank,
      fix: '"diag" or "lowrank"',
    });
  }
};

/** 32-bit FNV-1a of a string: derives independent seeds from one user seed. */
const hash32 = (s: string): number => {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
};

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

/**
 * The diagonal variance `max(sqMean - mean^2, 1e-30)` per weight (float32), as new tensors the
 * caller owns.
 *
 * @example
 * const v = swagVariance(state); // { "d/kernel": ..., ... }
 */
export const swagVariance = (state: SwagState): Weights => {
  const { mean, sqMean } = moments(state, "swagVariance");
  return tf.tidy(() =>
    Object.fromEntries(
      Object.entries(mean).map(([k, m]) => [
        k,
        tf.maximum(tf.sub(sqMean[k]!, tf.square(m)), VARIANCE_FLOOR),
      ]),
    ),
  );
};

/**
 * One SWAG sample for explicit standard-normal draws, a pure function of `state` and `draws`:
 * `mean + sqrt(scale) * (sqrt(var) * z1 + D^T z2 / sqrt(K - 1))` (`"lowrank"`), or
 * `mean + sqrt(scale) * sqrt(var) * z1` (`"diag"`), with `K = state.maxRank`. New float32
 * tensors the caller owns; nothing is disposed.
 *
 * @example
 * const w = swagSample(state, { z1: randomNormalLike(state.mean!, 1), z2: [0.3, -1.2] });
 */
export const swagSample = (state: SwagState, draws: Draws & SampleOptions): Weights => {
  const scale = draws.scale ?? DEFAULT_SCALE;
  const rank = draws.rank ?? "lowrank";
  checkScale(scale);
  checkRank(rank);
  const { mean } = moments(state, "swagSample");
  checkLike(mean, draws.z1, "swagSample: z1");
  const devs = state.deviations;
  if (rank === "lowrank" && draws.z2.length !== devs.length) {
    fail(
      "shape",
      `swagSample: z2 has ${draws.z2.length} values but the state stores ${devs.length} deviations; pass one draw per deviation`,
    );
  }
  const var_ = swagVariance(state);
  try {
    return tf.tidy(() => {
      const sqrtScale = Math.sqrt(scale);
      const divisor = Math.sqrt(state.maxRank - 1);
      return Object.fromEntries(
        Object.entries(mean).map(([k, m]) => {
          let rand = tf.mul(tf.sqrt(var_[k]!), draws.z1[k]!);
          if (rank === "lowrank") {
            const parts = devs.map((d, r) => tf.mul(d[k]!, draws.z2[r]!));
            const low = parts.length === 1 ? parts[0]! : tf.addN(parts);
            rand = tf.add(rand, tf.div(low, divisor));
          }
          return [k, tf.add(m, tf.mul(rand, sqrtScale))];
        }),
      );
    });
  } finally {
    for (const t of Object.values(var_)) t.dispose();
  }
};

/**
 * Standard-normal draws for a state, deterministic in `seed`: `z1` via `randomNormalLike` (one
 * stream per key) and `z2` from an independent stream. The caller owns `z1`.
 */
export const swagDraws = (state: SwagState, seed: number): { z1: Weights; z2: Float32Array } => {
  const { mean } = moments(state, "swagDraws");
  const z1 = randomNormalLike(mean, hash32(`swag-z1:${seed}`));
  const count = state.deviations.length;
  let z2 = new Float32Array(0);
  if (count > 0) {
    const t = tf.randomNormal([count], 0, 1, "float32", hash32(`swag-z2:${seed}`));
    z2 = Float32Array.from(t.dataSync());
    t.dispose();
  }
  return { z1, z2 };
};

/**
 * A seeded SWAG sample: {@link swagDraws} then {@link swagSample}; the same seed gives the same
 * weights. New tensors the caller owns.
 *
 * @example
 * const w = swagSampleSeeded(state, { seed: 7 }); // scale 0.5, low rank
 */
export const swagSampleSeeded = (
  state: SwagState,
  options: SampleOptions & { readonly seed: number },
): Weights => {
  const { z1, z2 } = swagDraws(state, options.seed);
  try {
    const { seed: _seed, ...rest } = options;
    return swagSample(state, { ...rest, z1, z2 });
  } finally {
    for (const t of Object.values(z1)) t.dispose();
  }
};
