/**
 * One training step on any `tf.LayersModel`: gradients of a loss with respect to the model's
 * trainable weights (training mode, so BatchNorm uses batch statistics and updates its moving
 * statistics), an optimizer update applied to the model's variables.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import type { Weights } from "@wider/weights";
import { fail } from "./errors.js";
import type { Loss } from "./loss.js";
import { applyUpdates, type Optimizer, type OptState } from "./optimizers.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** What a step returns: the new optimizer state (caller-owned) and the batch loss before the update. */
export interface StepResult {
  readonly state: OptState;
  readonly loss: number;
}

/**
 * A step: `(state, x, y, lr) -> { state, loss }`. Consumes `state` (see the optimizer memory
 * rule); never disposes `x` or `y`. If the optimizer throws (a state of another model), `state`
 * and the trainable weights are left as they were (BatchNorm moving statistics have moved).
 */
export type TrainStep = (state: OptState, x: tf.Tensor, y: tf.Tensor, lr: number) => StepResult;

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** The model's trainable variables keyed by `originalName` (the key `fromModel` uses). */
const trainableVariables = (model: tfl.LayersModel): Record<string, tf.Variable> => {
  const out: Record<string, tf.Variable> = {};
  for (const w of model.trainableWeights) {
    if (w.originalName in out) {
      fail(
        "config",
        `trainStep: two trainable variables are named "${w.originalName}"; give the layers unique names`,
      );
    }
    // A LayerVariable's `read()` is the backing tf.Variable (tfjs-layers types it as Tensor).
    out[w.originalName] = w.read() as tf.Variable;
  }
  return out;
};

/**
 * Builds a step for `model`, `loss` and `optimizer`. The loss is read back as a number
 * (`dataSync`), the optimizer state is keyed by variable `originalName`, so it matches
 * `fromModel(model)` and survives a save and a load into a model built with the same layer names.
 *
 * @example
 * const step = trainStep(model, softmaxCrossEntropy(), sgd({ momentum: 0.9 }));
 * let opt = sgd({ momentum: 0.9 }).init(fromModel(model));
 * const r = step(opt, x, y, 0.05); opt = r.state; // r.loss: the batch loss before the update
 */
export const trainStep = (model: tfl.LayersModel, loss: Loss, optimizer: Optimizer): TrainStep => {
  return (state, x, y, lr) => {
    const vars = trainableVariables(model);
    const names = Object.keys(vars);
    if (names.length === 0)
      fail(
        "config",
        "trainStep: the model has no trainable weights; build it first (give the first layer an inputShape) and leave some layers trainable",
      );
    const byVarName = new Map(names.map((n) => [(vars[n] as tf.Variable).name, n] as const));
    const { value, grads } = tf.variableGrads(() => {
      const out = model.apply(x, { training: true });
      if (Array.isArray(out)) {
        return fail(
          "config",
          `trainStep: the model has ${out.length} outputs; the loss takes one, so build a single-output model`,
        ) as tf.Scalar;
      }
      return loss(out as tf.Tensor, y);
    }, Object.values(vars));
    const g: Record<string, tf.Tensor> = {};
    for (const [varName, t] of Object.entries(grads)) g[byVarName.get(varName) ?? varName] = t;
    let lossValue: number;
    let next: OptState;
    let newValues: Weights = {};
    try {
      lossValue = value.dataSync()[0] as number;
      // `update` checks names and shapes and throws before consuming `state`.
      const { updates, state: s } = optimizer.update(g, state, vars, lr);
      next = s;
      // Every update key is a gradient key, hence a variable: applyUpdates cannot fail here.
      newValues = applyUpdates(vars, updates);
      tf.dispose(Object.values(updates));
      for (const [k, t] of Object.entries(newValues)) (vars[k] as tf.Variable).assign(t);
    } finally {
      tf.dispose([value, ...Object.values(grads), ...Object.values(newValues)]);
    }
    return { state: next, loss: lossValue };
  };
};
