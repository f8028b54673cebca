/** Test fixtures: a quadratic bowl `L(w) = 0.5 * sum_i h_i w_i^2` over a two-tensor weight set, with a float64 JS oracle. */
import * as tf from "@tensorflow/tfjs";
import { flatten, type Weights } from "@wider/weights";

/** Shapes of the bowl's two tensors (keys sorted as `flatten` orders them). */
export const SHAPES = { a: [3, 4], b: [5] } as const;
export const N = 17;

/** Curvatures h_i > 0, in `flatten` order (a then b). */
export const H: number[] = Array.from({ length: N }, (_, i) => 0.5 + ((i * 7) % N) * 0.25);

/** Weights from a flat float64 array (in `flatten` order); the caller owns them. */
export const weightsOf = (flat: readonly number[]): Weights => ({
  a: tf.tensor(flat.slice(0, 12), [3, 4]),
  b: tf.tensor(flat.slice(12), [5]),
});

/** The closed-form loss from a flat vector, in float64. */
export const lossOf = (flat: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < N; i++) s += 0.5 * H[i]! * flat[i]! ** 2;
  return s;
};

/** The loss of a weight set, computed in JS float64 from its data (the oracle). */
export const bowlLoss = (w: Weights): number => lossOf(flatten(w));

/** The same loss as a differentiable tfjs scalar (for sharpness). */
export const bowlLossTensor = (w: Weights): tf.Scalar =>
  tf.tidy(() => {
    const ha = tf.tensor(H.slice(0, 12), [3, 4]);
    const hb = tf.tensor(H.slice(12), [5]);
    return tf.mul(
      0.5,
      tf.add(tf.sum(tf.mul(ha, tf.square(w.a!))), tf.sum(tf.mul(hb, tf.square(w.b!)))),
    ) as tf.Scalar;
  });

/** `d^T H d` for a flat vector. */
export const curvatureAlong = (d: ArrayLike<number>): number => 2 * lossOf(d);

/** A deterministic pseudo-random flat vector (LCG), values in [-1, 1]. */
export const pseudoRandom = (seed: number, n = N): number[] => {
  let s = seed >>> 0 || 1;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  });
};

/** Whether every tensor allocated since `before` was freed. */
export const tensorCount = (): number => tf.memory().numTensors;
