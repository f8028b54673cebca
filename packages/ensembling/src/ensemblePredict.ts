/**
 * Ensembling for users who bring their own models: average the softmax
 * probabilities of any members, streaming, so that memory holds one running
 * `[n, K]` sum plus one member's output at a time.
 *
 * @module ensemblePredict
 */

import * as tf from "@tensorflow/tfjs-core";
import * as E from "fp-ts/lib/Either.js";
import { type EnsemblingError, fail } from "./errors.js";
import {
  accumulateProbabilities,
  disposeProbabilitySum,
  initProbabilitySum,
  meanProbabilities,
  type OutputOptions,
  type ProbabilitySum,
  toProbabilities,
} from "./probabilitySum.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * Predicts one member on (a batch of) `x`: returns `[rows, K]` **probabilities** by default,
 * or **logits** when the ensemble is called with `{ logits: true }`. It must return a fresh
 * tensor: the ensemble takes ownership and disposes it.
 */
export type PredictFn<M> = (member: M, x: tf.Tensor) => tf.Tensor | Promise<tf.Tensor>;

/** Options of {@link ensemblePredict}: `logits` (apply softmax to predictFn's output), `batchSize` (call predictFn on row slices of x). */
export interface EnsemblePredictOptions extends OutputOptions {
  readonly batchSize?: number;
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/** Checks an optional batch size: a positive integer, or absent; throws otherwise (an option in code). */
export const checkBatchSize = (
  batchSize: number | undefined,
): E.Either<EnsemblingError, number | undefined> =>
  batchSize === undefined || (Number.isInteger(batchSize) && batchSize >= 1)
    ? E.right(batchSize)
    : fail("config", `batchSize was ${batchSize}; pass a positive integer or leave it out`, {
        path: "batchSize",
        value: batchSize,
        fix: "a positive integer, or leave it out",
      });

/**
 * Runs `predict` on row slices of `x` of `batchSize` rows (all of x when undefined) and
 * concatenates the `[rows, K]` probabilities; returns a tensor the caller owns.
 */
export const predictInBatches = async (
  x: tf.Tensor,
  batchSize: number | undefined,
  predict: (batch: tf.Tensor) => tf.Tensor | Promise<tf.Tensor>,
  options: OutputOptions,
  field: string,
): Promise<E.Either<EnsemblingError, tf.Tensor2D>> => {
  const n = x.shape[0] ?? 0;
  const size = batchSize ?? Math.max(1, n);
  const parts: tf.Tensor2D[] = [];
  try {
    for (let start = 0; start < Math.max(n, 1); start += size) {
      const rows = Math.min(size, n - start);
      const batch = batchSize === undefined ? x : tf.slice(x, start, rows);
      let output: tf.Tensor;
      try {
        output = await predict(batch);
      } finally {
        if (batch !== x) batch.dispose();
      }
      const probs = toProbabilities(output, options, field);
      output.dispose();
      if (E.isLeft(probs)) return probs;
      parts.push(probs.right);
    }
    if (parts.length === 1) {
      const only = parts[0] as tf.Tensor2D;
      parts.length = 0;
      return E.right(only);
    }
    return E.right(tf.concat(parts, 0));
  } finally {
    for (const p of parts) p.dispose();
  }
};

// -------------------------------------------------------------------------------------
// ensembling
// -------------------------------------------------------------------------------------

/**
 * Average of the members' softmax probabilities on `x`, `[n, K]`, as a new tensor the caller owns.
 * Members may be any values (models, weight sets, file paths) in an iterable or async iterable and
 * are visited once, in order; `predictFn` returns probabilities, or logits with `{ logits: true }`.
 * No member is a Left; so is a member whose output shape differs from the others'.
 *
 * @example
 * const probs = await ensemblePredict(models, (m, x) => m.predict(x) as tf.Tensor, xTest);
 */
export const ensemblePredict = async <M>(
  members: Iterable<M> | AsyncIterable<M>,
  predictFn: PredictFn<M>,
  x: tf.Tensor,
  options: EnsemblePredictOptions = {},
): Promise<E.Either<EnsemblingError, tf.Tensor2D>> => {
  const batchSize = checkBatchSize(options.batchSize);
  if (E.isLeft(batchSize)) return batchSize;
  let state: ProbabilitySum = initProbabilitySum();
  try {
    let index = 0;
    for await (const member of members) {
      const field = `member ${index} output`;
      const probs = await predictInBatches(
        x,
        batchSize.right,
        (batch) => predictFn(member, batch),
        options,
        field,
      );
      if (E.isLeft(probs)) return probs;
      const next = accumulateProbabilities(state, probs.right);
      probs.right.dispose();
      if (E.isLeft(next)) return next;
      state = next.right;
      index++;
    }
    return meanProbabilities(state);
  } finally {
    disposeProbabilitySum(state);
  }
};
