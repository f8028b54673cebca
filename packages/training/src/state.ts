/**
 * The whole training state at a step, as plain data: the model's weights (with BatchNorm moving
 * statistics), the optimizer state and the global step. `branch` deep-copies it out of a live
 * run, `restore` puts it into a model (any model built with the same layer names), and
 * `saveTrainingState` / `loadTrainingState` store it atomically through `@wider/weights`
 * `saveBundle` / `loadBundle`, with user metadata decoded by an io-ts codec.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { assignToModel, disposeWeights, fromModel, type Weights } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { type TrainingError, trainingError } from "./errors.js";
import type { LoopState } from "./loop.js";
import { cloneOptState, disposeOptState, type Optimizer, type OptState } from "./optimizers.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Everything needed to continue a run exactly: weights (all, keyed by `originalName`), optimizer state, next step. */
export interface TrainingState {
  readonly step: number;
  readonly weights: Weights;
  readonly opt: OptState;
}

const NonNegativeInt = t.refinement(
  t.number,
  (n) => Number.isSafeInteger(n) && n >= 0,
  "NonNegativeInt",
);

/** io-ts codec of the checkpoint header stored in the bundle's metadata. */
export const CheckpointHeader = t.type({
  format: t.literal("wider-training"),
  version: t.literal(1),
  step: NonNegativeInt,
  count: NonNegativeInt,
  slots: t.array(t.string),
  meta: t.unknown,
});

/** The group holding the weights; slots are stored as `opt/<slot>`. */
export const WEIGHTS_GROUP = "weights";
export const SLOT_PREFIX = "opt/";

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * The start of a run: step 0 and `optimizer.init` over the model's trainable weights.
 *
 * @example
 * let state = initLoop(model, sgd({ momentum: 0.9 }));
 */
export const initLoop = (model: tfl.LayersModel, optimizer: Optimizer): LoopState => {
  const w = fromModel(model);
  try {
    return { step: 0, opt: optimizer.init(w) };
  } finally {
    disposeWeights(w);
  }
};

/**
 * A deep copy of the whole state of a live run (the model's weights, `include: "all"`, and a
 * copy of `state.opt`); the caller owns it, `state` stays the caller's too. Branch once, then
 * `restore` it as often as needed so SGD, SWA and FGE continue from one pretrained point.
 *
 * @example
 * const pretrained = branch(model, state);
 */
export const branch = (model: tfl.LayersModel, state: LoopState): TrainingState => ({
  step: state.step,
  weights: fromModel(model, { include: "all" }),
  opt: cloneOptState(state.opt),
});

/** A deep copy of a {@link TrainingState} (new tensors the caller owns). */
export const cloneTrainingState = (s: TrainingState): TrainingState => ({
  step: s.step,
  weights: Object.fromEntries(Object.entries(s.weights).map(([k, v]) => [k, v.clone()])),
  opt: cloneOptState(s.opt),
});

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

/**
 * Writes `s.weights` into `model` and returns a live state with a copy of `s.opt` (the caller
 * keeps owning `s`). A model whose variable names or shapes differ is a Left and nothing is written.
 *
 * @example
 * const r = restore(model, pretrained); // Either<TrainingError, LoopState>
 */
export const restore = (
  model: tfl.LayersModel,
  s: TrainingState,
): E.Either<TrainingError, LoopState> => {
  const names = new Set(model.trainableWeights.map((v) => v.originalName));
  for (const [slot, w] of Object.entries(s.opt.slots)) {
    const stray = Object.keys(w).find((k) => !names.has(k));
    if (stray !== undefined) {
      return E.left(
        trainingError(
          "shape",
          `restore: the optimizer state's "${slot}" has "${stray}", which is not a trainable weight of the model; restore into a model built with the same layer names`,
          { path: `${slot}/${stray}`, fix: "restore into a model built with the same layer names" },
        ),
      );
    }
  }
  const r = assignToModel(model, s.weights);
  if (E.isLeft(r)) return E.left(trainingError("shape", `restore: ${r.left.message}`));
  return E.right({ step: s.step, opt: cloneOptState(s.opt) });
};

/** Frees every tensor of a {@link TrainingState}. */
export const disposeTrainingState = (s: TrainingState): void => {
  disposeWeights(s.weights);
  disposeOptState(s.opt);
};

/** The tensors of a {@link TrainingState}, in a fixed order (weights, then slots), e.g. to compare two states. */
export const stateTensors = (s: TrainingState): Array<[string, tf.Tensor]> => [
  ...Object.entries(s.weights).map(([k, v]) => [`weights/${k}`, v] as [string, tf.Tensor]),
  ...Object.entries(s.opt.slots).flatMap(([n, w]) =>
    Object.entries(w).map(([k, v]) => [`${SLOT_PREFIX}${n}/${k}`, v] as [string, tf.Tensor]),
  ),
];
