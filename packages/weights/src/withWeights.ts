/**
 * Temporarily swapping other weights (an SWA mean, a snapshot, a point of a plane) into a model:
 * write them in, run a function, put the model's own weights back.
 *
 * @module
 */
import type * as tfl from "@tensorflow/tfjs-layers";
import { raise } from "@wider/errors";
import * as E from "fp-ts/lib/Either.js";
import { disposeWeights } from "./arithmetic.js";
import type { WeightsError } from "./errors.js";
import { type AssignOptions, assignToModel, fromModel } from "./model.js";
import type { Weights } from "./types.js";

// -------------------------------------------------------------------------------------
// internal
// -------------------------------------------------------------------------------------

/**
 * Copies the model's weights out (all of them, BatchNorm statistics included) and writes
 * `weights` in; a `Left` (nothing written, nothing kept) when they do not fit. The `Right` is the
 * function putting the copy back and freeing it.
 */
const swapIn = (
  model: tfl.LayersModel,
  weights: Weights,
  options: AssignOptions,
): E.Either<WeightsError, () => void> => {
  const live = fromModel(model, { include: "all" });
  const assigned = assignToModel(model, weights, options);
  if (E.isLeft(assigned)) {
    disposeWeights(live);
    return assigned;
  }
  return E.right(() => {
    const restored = assignToModel(model, live);
    disposeWeights(live);
    // Cannot happen: `live` was read from this very model.
    if (E.isLeft(restored)) {
      raise({
        ...restored.left,
        message: `withWeights: could not restore the model: ${restored.left.message}`,
      });
    }
  });
};

// -------------------------------------------------------------------------------------
// combinators
// -------------------------------------------------------------------------------------

/**
 * Writes `weights` into `model`, runs `fn` (awaited), then restores the model's own weights (all
 * of them, BatchNorm statistics included), even if `fn` throws or rejects (the error is re-thrown
 * after restoring). A weights/model mismatch is a `Left` and `fn` is not run. `weights` stays the
 * caller's; `options` go to `assignToModel` (e.g. `{ match: "order" }`).
 *
 * @example
 * const acc = await withWeights(model, swaMean, () => evaluate(model, testSet)); // Either<WeightsError, number>
 */
export const withWeights = async <A>(
  model: tfl.LayersModel,
  weights: Weights,
  fn: () => A | Promise<A>,
  options: AssignOptions = {},
): Promise<E.Either<WeightsError, A>> => {
  const swapped = swapIn(model, weights, options);
  if (E.isLeft(swapped)) return swapped;
  let result: A;
  try {
    result = await fn();
  } finally {
    swapped.right();
  }
  return E.right(result);
};

/**
 * {@link withWeights} for a synchronous `fn` (e.g. inside `tf.tidy`, or a gradient computation):
 * the same swap and restore, with the result returned at once.
 *
 * @example
 * const out = withWeightsSync(model, swaMean, () => tf.tidy(() => model.predict(x).dataSync()));
 */
export const withWeightsSync = <A>(
  model: tfl.LayersModel,
  weights: Weights,
  fn: () => A,
  options: AssignOptions = {},
): E.Either<WeightsError, A> => {
  const swapped = swapIn(model, weights, options);
  if (E.isLeft(swapped)) return swapped;
  let result: A;
  try {
    result = fn();
  } finally {
    swapped.right();
  }
  return E.right(result);
};
