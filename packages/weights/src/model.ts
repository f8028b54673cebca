/**
 * Moving weights between a `tf.LayersModel` and a {@link Weights} record.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { raise } from "@wider/errors";
import * as E from "fp-ts/lib/Either.js";
import { type WeightsError, weightsError } from "./errors.js";
import { hasOwn, setOwn } from "./ownRecord.js";
import type { Weights } from "./types.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Which of a model's weights to take: trainable only, or also non-trainable (BN moving stats). */
export type Include = "trainable" | "all";

/** Options of {@link fromModel}. */
export interface FromModelOptions {
  /** `"trainable"` (default) or `"all"` (adds BatchNorm `moving_mean` / `moving_variance`). */
  readonly include?: Include;
}

/** Options of {@link assignToModel}. */
export interface AssignOptions {
  /**
   * `"name"` (default): each key must name one of the model's variables (its `originalName`).
   * `"order"`: the i-th key (insertion order) goes to the i-th model weight, for two instances
   * of one architecture built without explicit layer names (their auto names differ).
   */
  readonly match?: "name" | "order";
  /**
   * Only for `match: "order"`: which model weight list to line up with. Default: `"all"` when the
   * counts match `model.weights`, else `"trainable"` when they match `model.trainableWeights`.
   */
  readonly include?: Include;
}

/** The variables of a model, as the `LayerVariable`s tfjs-layers exposes. */
type ModelVariable = tfl.LayersModel["weights"][number];

const modelVariables = (model: tfl.LayersModel, include: Include): ModelVariable[] =>
  include === "all" ? model.weights : model.trainableWeights;

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Copies a model's weights out, keyed by variable name; the caller owns the tensors
 * (free them with `disposeWeights`). Throws if two variables share a name.
 *
 * @example
 * const w = fromModel(model, { include: "all" }); // { "d1/kernel": ..., "bn/moving_mean": ... }
 */
export const fromModel = (model: tfl.LayersModel, options: FromModelOptions = {}): Weights => {
  const out: Record<string, tf.Tensor> = {};
  const vars = modelVariables(model, options.include ?? "trainable");
  for (const v of vars) {
    if (hasOwn(out, v.originalName)) {
      for (const t of Object.values(out)) t.dispose();
      raise(
        weightsError(
          "config",
          `fromModel: two variables are named "${v.originalName}"; give the layers unique names`,
          { path: v.originalName, fix: "give the layers unique names" },
        ),
      );
    }
    setOwn(out, v.originalName, v.read().clone());
  }
  return out;
};

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

const sameShape = (a: readonly (number | null)[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);

const fmt = (s: readonly (number | null)[]): string => `[${s.join(",")}]`;

const pairByName = (
  model: tfl.LayersModel,
  weights: Weights,
): E.Either<WeightsError, Array<[ModelVariable, tf.Tensor]>> => {
  const byName = new Map(model.weights.map((v) => [v.originalName, v] as const));
  const pairs: Array<[ModelVariable, tf.Tensor]> = [];
  for (const [name, t] of Object.entries(weights)) {
    const v = byName.get(name);
    if (v === undefined) {
      const known = [...byName.keys()].slice(0, 8).join(", ");
      return E.left(
        weightsError(
          "shape",
          `assignToModel: the model has no variable named "${name}" (it has: ${known}${
            byName.size > 8 ? ", ..." : ""
          }); build both models with explicit layer names, or pass { match: "order" }`,
          {
            path: name,
            fix: 'build both models with explicit layer names, or pass { match: "order" }',
          },
        ),
      );
    }
    pairs.push([v, t]);
  }
  return E.right(pairs);
};

const pairByOrder = (
  model: tfl.LayersModel,
  weights: Weights,
  include: Include | undefined,
): E.Either<WeightsError, Array<[ModelVariable, tf.Tensor]>> => {
  const entries = Object.values(weights);
  const chosen: Include | undefined =
    include ??
    (entries.length === model.weights.length
      ? "all"
      : entries.length === model.trainableWeights.length
        ? "trainable"
        : undefined);
  const vars = chosen === undefined ? [] : modelVariables(model, chosen);
  if (chosen === undefined || vars.length !== entries.length) {
    return E.left(
      weightsError(
        "shape",
        `assignToModel: match "order" needs one tensor per model weight, got ${entries.length} ` +
          `but the model has ${model.weights.length} weights (${model.trainableWeights.length} trainable); ` +
          `take the weights with fromModel from the same architecture`,
        {
          value: entries.length,
          fix: "take the weights with fromModel from the same architecture",
        },
      ),
    );
  }
  return E.right(vars.map((v, i) => [v, entries[i]!] as [ModelVariable, tf.Tensor]));
};

/**
 * Writes weights into a model's variables, all or nothing: a missing name, a count or a shape
 * mismatch is a `Left` and nothing is written. Keys absent from `weights` are left as they are.
 * The model's variables receive copies; the caller keeps owning `weights`.
 *
 * @example
 * pipe(assignToModel(model, w), E.getOrElseW((e) => { throw new Error(e.message); }));
 */
export const assignToModel = (
  model: tfl.LayersModel,
  weights: Weights,
  options: AssignOptions = {},
): E.Either<WeightsError, void> => {
  const paired =
    options.match === "order"
      ? pairByOrder(model, weights, options.include)
      : pairByName(model, weights);
  if (E.isLeft(paired)) return paired;
  for (const [v, t] of paired.right) {
    if (!sameShape(v.shape, t.shape)) {
      return E.left(
        weightsError(
          "shape",
          `assignToModel: variable "${v.originalName}" has shape ${fmt(v.shape)} but the given ` +
            `tensor has shape ${fmt(t.shape)}; the weights come from a different architecture`,
          { path: v.originalName, value: t.shape, fix: `a tensor of shape ${fmt(v.shape)}` },
        ),
      );
    }
  }
  for (const [v, t] of paired.right) {
    // `write` assigns the value into the variable (a copy that the variable owns); cast keeps
    // the variable's dtype when the weights were averaged in float32.
    if (t.dtype === v.dtype) v.write(t);
    else {
      const c = tf.cast(t, v.dtype);
      v.write(c);
      c.dispose();
    }
  }
  return E.right(undefined);
};
