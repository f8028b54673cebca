/**
 * A prediction set: an `n x K` matrix of class probabilities (one row per
 * sample) together with integer labels, accepted either as tensors or as
 * plain arrays, and read into `Float64`-precision JavaScript numbers for the
 * metrics and diagnostics.
 *
 * @module predictionSet
 */
import * as tf from "@tensorflow/tfjs-core";
import * as E from "fp-ts/lib/Either.js";
import { type EnsemblingError, ensemblingError } from "./errors.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * Class probabilities for `n` samples and `K` classes: a rank-2 tensor `[n, K]`,
 * or row-major data with the number of classes, e.g.
 * `{ data: new Float32Array([0.9, 0.1, 0.2, 0.8]), numClasses: 2 }`.
 */
export type ProbabilityInput =
  | tf.Tensor
  | { readonly data: ArrayLike<number>; readonly numClasses: number };

/**
 * Integer class labels: a rank-1 tensor or array of class indices in `[0, K)`,
 * or a rank-2 one-hot tensor `[n, K]` (its argmax is taken).
 */
export type LabelInput = tf.Tensor | Int32Array | Float32Array | readonly number[];

/** A prediction set read into memory: `n` rows of `k` probabilities, row-major. */
export interface ProbabilityMatrix {
  readonly data: ArrayLike<number>;
  readonly n: number;
  readonly k: number;
}

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

/** Reads a {@link ProbabilityInput} (synchronously, `dataSync` for tensors) into a {@link ProbabilityMatrix}. */
export const readProbabilities = (
  probs: ProbabilityInput,
  field = "probabilities",
): E.Either<EnsemblingError, ProbabilityMatrix> => {
  if (probs instanceof tf.Tensor) {
    if (probs.rank !== 2) {
      return E.left(
        ensemblingError(
          "shape",
          `${field} has shape [${probs.shape.join(", ")}]; pass a rank-2 tensor [samples, classes]`,
        ),
      );
    }
    const [n, k] = probs.shape as [number, number];
    return E.right({ data: probs.dataSync(), n, k });
  }
  const { data, numClasses } = probs;
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    return E.left(
      ensemblingError(
        "config",
        `${field}.numClasses was ${numClasses}; pass a positive integer number of classes`,
      ),
    );
  }
  if (data.length % numClasses !== 0) {
    return E.left(
      ensemblingError(
        "shape",
        `${field}.data has length ${data.length}, not a multiple of numClasses = ${numClasses}; pass row-major [samples x classes] data`,
      ),
    );
  }
  return E.right({ data, n: data.length / numClasses, k: numClasses });
};

/** Reads labels for `n` samples of `k` classes into an `Int32Array`, checking count and range. */
export const readLabels = (
  labels: LabelInput,
  n: number,
  k: number,
  field = "labels",
): E.Either<EnsemblingError, Int32Array> => {
  let values: ArrayLike<number>;
  if (labels instanceof tf.Tensor) {
    if (labels.rank === 2) {
      if (labels.shape[1] !== k) {
        return E.left(
          ensemblingError(
            "shape",
            `${field} is one-hot with ${labels.shape[1]} classes but the probabilities have ${k}; pass labels with ${k} columns or integer class indices`,
          ),
        );
      }
      const indices = tf.argMax(labels, 1);
      values = indices.dataSync();
      indices.dispose();
    } else if (labels.rank === 1) {
      values = labels.dataSync();
    } else {
      return E.left(
        ensemblingError(
          "shape",
          `${field} has shape [${labels.shape.join(", ")}]; pass class indices [samples] or one-hot [samples, classes]`,
        ),
      );
    }
  } else {
    values = labels;
  }
  if (values.length !== n) {
    return E.left(
      ensemblingError(
        "shape",
        `${field} has ${values.length} entries but there are ${n} predictions; pass one label per sample`,
      ),
    );
  }
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const y = values[i] as number;
    if (!Number.isInteger(y) || y < 0 || y >= k) {
      return E.left(
        ensemblingError(
          "shape",
          `${field}[${i}] was ${y}; labels must be integer class indices in [0, ${k})`,
        ),
      );
    }
    out[i] = y;
  }
  return E.right(out);
};

/** Index of the largest entry of row `i` (the first one on ties, like `tf.argMax`). */
export const rowArgMax = (m: ProbabilityMatrix, i: number): number => {
  const base = i * m.k;
  let best = 0;
  let bestValue = m.data[base] as number;
  for (let c = 1; c < m.k; c++) {
    const v = m.data[base + c] as number;
    if (v > bestValue) {
      bestValue = v;
      best = c;
    }
  }
  return best;
};
