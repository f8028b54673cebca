/**
 * Temporarily swapping other weights (e.g. the SWA mean) into a model.
 *
 * @module
 */
import type * as tfl from "@tensorflow/tfjs-layers";
import {
  type AssignOptions,
  assignToModel,
  disposeWeights,
  fromModel,
  type Weights,
  type WeightsError,
} from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";

/**
 * Writes `weights` into `model`, runs `fn`, then restores the model's own weights, even if `fn`
 * throws or rejects (the error is re-thrown after restoring). A weights/model mismatch is a
 * `Left` and `fn` is not run. `weights` stays the caller's.
 *
 * @example
 * const acc = await withWeights(model, state.mean!, () => evaluate(model, testSet));
 */
export const withWeights = async <A>(
  model: tfl.LayersModel,
  weights: Weights,
  fn: () => A | Promise<A>,
  options: AssignOptions = {},
): Promise<E.Either<WeightsError, A>> => {
  const live = fromModel(model, { include: "all" });
  const assigned = assignToModel(model, weights, options);
  if (E.isLeft(assigned)) {
    disposeWeights(live);
    return assigned;
  }
  const restore = (): void => {
    const restored = assignToModel(model, live);
    disposeWeights(live);
    // Cannot happen: `live` was read from this very model.
    if (E.isLeft(restored))
      throw new Error(`withWeights: could not restore: ${restored.left.message}`);
  };
  let result: A;
  try {
    result = await fn();
  } catch (e) {
    restore();
    throw e;
  }
  restore();
  return E.right(result);
};
