/**
 * LOCAL STAND-IN for `@wider/geometry` (TODO(@wider/geometry): replace with its rays, segment,
 * plane and width once the package lands). Plans and evaluations of the paper's section 4:
 * random rays from a center (`w + t d`, `d` uniform on the unit sphere of the trainable weights),
 * the segment `w_swa + t (w_sgd - w_swa)` extended beyond [0, 1], the plane through three points
 * (Gram-Schmidt basis `u`, `v`), and the width of a ray (first distance at which the train loss
 * exceeds the center's by a threshold, linearly interpolated).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { disposeWeights, dot, norm, randomNormalLike, scale, type Weights } from "@wider/weights";

/** Loss and error at one point. */
export interface PointScores {
  readonly trainLoss: number;
  readonly trainError: number;
  readonly testError: number;
}

/** Evaluates weights (trainable part; BN statistics handled by the evaluator). */
export type Evaluate = (w: Weights) => Promise<PointScores>;

/** Only the keys of `like` (trainable weights) of `w`. */
const pick = (w: Weights, keys: readonly string[]): Weights =>
  Object.fromEntries(keys.map((k) => [k, w[k] as tf.Tensor]));

/** `a + t * d` over the keys of `d`; the caller owns the result. */
const along = (a: Weights, d: Weights, t: number): Weights =>
  tf.tidy(() =>
    Object.fromEntries(
      Object.entries(d).map(([k, v]) => [k, tf.add(a[k] as tf.Tensor, tf.mul(v, t))]),
    ),
  );

/** A random direction, uniform on the unit sphere, over `keys` of `like`; the caller owns it. */
export const unitDirection = (like: Weights, keys: readonly string[], seed: number): Weights => {
  const z = randomNormalLike(pick(like, keys), seed);
  const n = norm(z);
  const d = scale(z, 1 / n);
  disposeWeights(z);
  return d;
};

/** One ray's results. */
export interface RayResult {
  readonly distances: readonly number[];
  readonly points: readonly PointScores[];
  /** Distance at which train loss first exceeds the center's by the threshold (`null`: not within the ray). */
  readonly width: number | null;
}

/** Width of a ray: linear interpolation of the first crossing of `center + threshold`. */
export const rayWidth = (
  distances: readonly number[],
  losses: readonly number[],
  threshold: number,
): number | null => {
  const level = (losses[0] as number) + threshold;
  for (let i = 1; i < losses.length; i++) {
    const a = losses[i - 1] as number;
    const b = losses[i] as number;
    if (b > level) {
      const d0 = distances[i - 1] as number;
      const d1 = distances[i] as number;
      return a >= level ? d0 : d0 + ((level - a) / (b - a)) * (d1 - d0);
    }
  }
  return null;
};

/** Evaluates a ray `center + t d` at `distances`. */
export const evaluateRay = async (
  center: Weights,
  direction: Weights,
  distances: readonly number[],
  evaluate: Evaluate,
  threshold: number,
): Promise<RayResult> => {
  const points: PointScores[] = [];
  for (const t of distances) {
    const w = along(center, direction, t);
    try {
      points.push(await evaluate(w));
    } finally {
      disposeWeights(w);
    }
  }
  return {
    distances,
    points,
    width: rayWidth(
      distances,
      points.map((p) => p.trainLoss),
      threshold,
    ),
  };
};

/** The segment's results: `t` (0 at SWA, 1 at SGD) and signed distance from SWA. */
export interface SegmentResult {
  readonly ts: readonly number[];
  readonly distances: readonly number[];
  readonly length: number;
  readonly points: readonly PointScores[];
}

/** Evaluates `swa + t (sgd - swa)` over `ts` (trainable keys). */
export const evaluateSegment = async (
  swa: Weights,
  sgd: Weights,
  keys: readonly string[],
  ts: readonly number[],
  evaluate: Evaluate,
): Promise<SegmentResult> => {
  const delta = tf.tidy(() =>
    Object.fromEntries(keys.map((k) => [k, tf.sub(sgd[k] as tf.Tensor, swa[k] as tf.Tensor)])),
  );
  const length = norm(delta);
  const points: PointScores[] = [];
  try {
    for (const t of ts) {
      const w = along(swa, delta, t);
      try {
        points.push(await evaluate(w));
      } finally {
        disposeWeights(w);
      }
    }
  } finally {
    disposeWeights(delta);
  }
  return { ts, distances: ts.map((t) => t * length), length, points };
};

/** The plane's results: the three anchors' coordinates and the grid of scores. */
export interface PlaneResult {
  readonly anchors: ReadonlyArray<{
    readonly name: string;
    readonly x: number;
    readonly y: number;
  }>;
  readonly xs: readonly number[];
  readonly ys: readonly number[];
  /** Row-major over `ys` then `xs`. */
  readonly points: ReadonlyArray<PointScores & { readonly x: number; readonly y: number }>;
}

/** Evaluates a `grid x grid` plane through `w1, w2, w3` (margin 0.2 of the span around them). */
export const evaluatePlane = async (
  anchors: ReadonlyArray<{ readonly name: string; readonly w: Weights }>,
  keys: readonly string[],
  grid: number,
  evaluate: Evaluate,
  margin = 0.2,
): Promise<PlaneResult> => {
  const [a1, a2, a3] = anchors as [
    { name: string; w: Weights },
    { name: string; w: Weights },
    { name: string; w: Weights },
  ];
  const w1 = pick(a1.w, keys);
  const d2 = tf.tidy(() =>
    Object.fromEntries(keys.map((k) => [k, tf.sub(a2.w[k] as tf.Tensor, w1[k] as tf.Tensor)])),
  );
  const d3 = tf.tidy(() =>
    Object.fromEntries(keys.map((k) => [k, tf.sub(a3.w[k] as tf.Tensor, w1[k] as tf.Tensor)])),
  );
  const n2 = norm(d2);
  const u = scale(d2, 1 / n2);
  const c3 = dot(d3, u);
  const vRaw = tf.tidy(() =>
    Object.fromEntries(
      keys.map((k) => [k, tf.sub(d3[k] as tf.Tensor, tf.mul(u[k] as tf.Tensor, c3))]),
    ),
  );
  const nv = norm(vRaw);
  const v = scale(vRaw, 1 / nv);
  disposeWeights(d2);
  disposeWeights(d3);
  disposeWeights(vRaw);
  const coords = [
    { name: a1.name, x: 0, y: 0 },
    { name: a2.name, x: n2, y: 0 },
    { name: a3.name, x: c3, y: nv },
  ];
  const span = (vals: number[]): number[] => {
    const lo = Math.min(...vals);
    const hi = Math.max(...vals);
    const m = margin * (hi - lo);
    return Array.from({ length: grid }, (_, i) => lo - m + ((hi - lo + 2 * m) * i) / (grid - 1));
  };
  const xs = span(coords.map((c) => c.x));
  const ys = span(coords.map((c) => c.y));
  const points: Array<PointScores & { x: number; y: number }> = [];
  try {
    for (const y of ys) {
      for (const x of xs) {
        const w = tf.tidy(() =>
          Object.fromEntries(
            keys.map((k) => [
              k,
              tf.add(
                tf.add(w1[k] as tf.Tensor, tf.mul(u[k] as tf.Tensor, x)),
                tf.mul(v[k] as tf.Tensor, y),
              ),
            ]),
          ),
        );
        try {
          points.push({ x, y, ...(await evaluate(w)) });
        } finally {
          disposeWeights(w);
        }
      }
    }
  } finally {
    disposeWeights(u);
    disposeWeights(v);
  }
  return { anchors: coords, xs, ys, points };
};
