/**
 * A running sum of class probabilities over ensemble members, for one
 * evaluation set: memory is one `[n, K]` tensor whatever the number of
 * members. State in, state out, in the style of an optax transformation:
 * `accumulateProbabilities` disposes the previous state's tensor, so a state
 * must not be used after it has been passed to it.
 *
 * @module probabilitySum
 */
import * as tf from "@tensorflow/tfjs-core";
import * as E from "fp-ts/lib/Either.js";
import { type EnsemblingError, ensemblingError } from "./errors.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** `count` members summed into `sum` (`null` before the first); the state owns `sum`. */
export interface ProbabilitySum {
  readonly count: number;
  readonly sum: tf.Tensor2D | null;
}

/** How a member's output is turned into probabilities: `logits: true` applies a softmax over the last axis. */
export interface OutputOptions {
  readonly logits?: boolean;
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** The empty sum (no members yet). */
export const initProbabilitySum = (): ProbabilitySum => ({ count: 0, sum: null });

// -------------------------------------------------------------------------------------
// combinators
// -------------------------------------------------------------------------------------

/**
 * Turns a member's `[n, K]` output into probabilities (softmax when `logits`), as a new
 * float32 tensor the caller owns; the input is not disposed. Non-rank-2 outputs are a Left.
 */
export const toProbabilities = (
  output: tf.Tensor,
  options: OutputOptions = {},
  field = "member output",
): E.Either<EnsemblingError, tf.Tensor2D> => {
  if (output.rank !== 2) {
    return E.left(
      ensemblingError(
        "shape",
        `${field} has shape [${output.shape.join(", ")}]; predictions must be [samples, classes]`,
      ),
    );
  }
  return E.right(
    tf.tidy(() => {
      const f = tf.cast(output, "float32") as tf.Tensor2D;
      return options.logits === true ? tf.softmax(f) : tf.clone(f);
    }),
  );
};

/**
 * Adds one member's probabilities `[n, K]` to the sum. The caller keeps `probs`; the previous
 * state's tensor is disposed (do not reuse `state`). A shape different from earlier members is a Left
 * and leaves `state` intact.
 *
 * @example
 * let s = initProbabilitySum();
 * s = E.getOrElseW(() => s)(accumulateProbabilities(s, p1));
 */
export const accumulateProbabilities = (
  state: ProbabilitySum,
  probs: tf.Tensor,
): E.Either<EnsemblingError, ProbabilitySum> => {
  if (probs.rank !== 2) {
    return E.left(
      ensemblingError(
        "shape",
        `member ${state.count} probabilities have shape [${probs.shape.join(", ")}]; pass [samples, classes]`,
      ),
    );
  }
  if (state.sum === null) {
    return E.right({
      count: 1,
      sum: tf.tidy(() => tf.clone(tf.cast(probs, "float32")) as tf.Tensor2D),
    });
  }
  const previous = state.sum;
  if (previous.shape[0] !== probs.shape[0] || previous.shape[1] !== probs.shape[1]) {
    return E.left(
      ensemblingError(
        "shape",
        `member ${state.count} probabilities have shape [${probs.shape.join(", ")}] but earlier members had [${previous.shape.join(", ")}]; predict every member on the same evaluation set`,
      ),
    );
  }
  const sum = tf.tidy(() => tf.add(previous, tf.cast(probs, "float32")) as tf.Tensor2D);
  previous.dispose();
  return E.right({ count: state.count + 1, sum });
};

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

/** The ensemble's probabilities, `sum / count`, as a new tensor the caller owns; Left when no member was added. */
export const meanProbabilities = (
  state: ProbabilitySum,
): E.Either<EnsemblingError, tf.Tensor2D> => {
  const { sum, count } = state;
  if (sum === null || count === 0) {
    return E.left(
      ensemblingError(
        "config",
        "the ensemble has 0 members; add at least one member's predictions",
      ),
    );
  }
  return E.right(tf.tidy(() => tf.div(sum, count) as tf.Tensor2D));
};

/** Releases the state's tensor. */
export const disposeProbabilitySum = (state: ProbabilitySum): void => {
  state.sum?.dispose();
};
