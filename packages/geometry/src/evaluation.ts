/**
 * Evaluation of a plan: for each point, make its weights, evaluate them (on a tfjs model, after
 * an optional BatchNorm re-estimation, or with any function of the weights), and collect plain
 * data, with progress reports and a resumable result file. No tensor outlives a point.
 *
 * @module
 */

import type * as tfl from "@tensorflow/tfjs-layers";
import { type Batches, type UpdateBatchNormOptions, updateBatchNorm } from "@wider/averaging";
import { WiderFailure } from "@wider/errors";
import { type AssignOptions, disposeWeights, type Weights, withWeights } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { type GeometryError, geometryError } from "./errors.js";
import { planFingerprint } from "./fingerprint.js";
import { describePlan, type Plan, type PlanPoint, pointWeights } from "./plans.js";
import {
  type Metrics,
  type PlanResults,
  type PointResult,
  readResultsFile,
  storeMetrics,
  writeResultsFile,
} from "./results.js";

// -------------------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------------------

/** A progress report, sent after each point (and once for the points resumed from a file). */
export interface Progress {
  /** Points with a result so far, out of `total`. */
  readonly done: number;
  readonly total: number;
  /** The point just evaluated, or `null` for the report of resumed points. */
  readonly point: PlanPoint | null;
  readonly metrics: Metrics | null;
  /** How many of `done` came from the resume file. */
  readonly resumed: number;
  /** Milliseconds since the evaluation started. */
  readonly elapsedMs: number;
}

/** Options shared by {@link evaluatePlanWith} and {@link evaluatePlan}. */
export interface EvaluationOptions {
  /** Called after each point. */
  readonly onProgress?: (progress: Progress) => void;
  /**
   * Keep results in `file` (JSON, rewritten atomically after each point). If the file exists and
   * belongs to this plan, its points are kept and only the others are evaluated; a file from a
   * different plan is refused (`kind: "conflict"`).
   */
  readonly resume?: { readonly file: string };
}

/**
 * The batches BatchNorm statistics are re-estimated on, at every point: an array or a
 * `tf.data.Dataset` (both can be iterated again), or a function making a fresh iterable for each
 * point (a one-shot generator would be exhausted after the first point).
 */
export type BatchNormBatches = Batches | (() => Batches);

/** Options of {@link evaluatePlan}. */
export interface ModelEvaluationOptions extends EvaluationOptions {
  /** The model whose weights each point replaces; its original weights are restored after each point. */
  readonly model: tfl.LayersModel;
  /** Evaluates the model as it stands, e.g. `evaluateClassifier({ train, test })`. */
  readonly evaluate: (model: tfl.LayersModel) => Promise<Metrics>;
  /** When given, BatchNorm statistics are re-estimated on these batches at each point. */
  readonly bnBatches?: BatchNormBatches;
  /** Options passed to `updateBatchNorm`. */
  readonly bnOptions?: UpdateBatchNormOptions;
  /** Options passed to `assignToModel` (e.g. `{ match: "order" }`). */
  readonly assign?: AssignOptions;
}

// -------------------------------------------------------------------------------------------------
// evaluation
// -------------------------------------------------------------------------------------------------

/**
 * Evaluates every point of `plan` with `evaluateAt(weights, point)`; `weights` are freed after the
 * call, so `evaluateAt` must not keep them. Returns the results as plain data. With `resume`,
 * results are saved after each point, so an interrupted run (a thrown error, a killed process)
 * continues where it stopped when called again with the same plan and file. An error thrown by
 * `evaluateAt` propagates (after the points before it were saved).
 *
 * @example
 * const r = await evaluatePlanWith(plan, async (w) => ({ loss: quadraticLoss(w) }));
 */
export const evaluatePlanWith = async (
  plan: Plan,
  evaluateAt: (weights: Weights, point: PlanPoint) => Promise<Metrics> | Metrics,
  options: EvaluationOptions = {},
): Promise<E.Either<GeometryError, PlanResults>> => {
  const started = Date.now();
  const planId = planFingerprint(plan);
  const description = describePlan(plan);
  const total = plan.points.length;
  const byIndex = new Map<number, PointResult>();
  const file = options.resume?.file;
  if (file !== undefined) {
    const previous = await readResultsFile(file);
    if (E.isLeft(previous)) return previous;
    if (previous.right !== null) {
      if (previous.right.planId !== planId) {
        return E.left(
          geometryError(
            "conflict",
            `resume file ${file} holds results of a different plan (its planId ${previous.right.planId.slice(0, 12)}…, this plan's ${planId.slice(0, 12)}…): pass another resume.file, or delete it to start over`,
            { path: file, fix: "pass another resume.file, or delete it to start over" },
          ),
        );
      }
      for (const r of previous.right.results) byIndex.set(r.index, r);
    }
  }
  const resumed = byIndex.size;
  const snapshot = (): PlanResults => ({
    format: "wider-geometry-results",
    version: 1,
    planId,
    plan: description,
    results: [...byIndex.values()].sort((a, b) => a.index - b.index),
    complete: byIndex.size === total,
  });
  if (resumed > 0) {
    options.onProgress?.({
      done: resumed,
      total,
      point: null,
      metrics: null,
      resumed,
      elapsedMs: Date.now() - started,
    });
  }
  for (const point of plan.points) {
    if (byIndex.has(point.index)) continue;
    const weights = pointWeights(plan, point.index);
    let metrics: Metrics;
    try {
      metrics = await evaluateAt(weights, point);
    } finally {
      disposeWeights(weights);
    }
    byIndex.set(point.index, { ...point, metrics: storeMetrics(metrics) });
    if (file !== undefined) {
      const written = await writeResultsFile(file, snapshot());
      if (E.isLeft(written)) return written;
    }
    options.onProgress?.({
      done: byIndex.size,
      total,
      point,
      metrics,
      resumed,
      elapsedMs: Date.now() - started,
    });
  }
  return E.right(snapshot());
};

/**
 * Evaluates every point of `plan` on a tfjs model: assigns the point's weights
 * (`assignToModel`), re-estimates BatchNorm statistics on `bnBatches` when given
 * (`updateBatchNorm` from `@wider/averaging`), then calls `evaluate(model)`, all inside
 * `withWeights`: the model's original weights (all of them, BatchNorm statistics included) are
 * restored after each point, even on error.
 * A weight set that does not fit the model is a `Left` (`kind: "shape"`).
 *
 * @example
 * const r = await evaluatePlan(plan, { model, evaluate: evaluateClassifier({ train, test }), bnBatches: trainBatches, resume: { file: "ray0.json" } });
 */
export const evaluatePlan = async (
  plan: Plan,
  options: ModelEvaluationOptions,
): Promise<E.Either<GeometryError, PlanResults>> => {
  const { model, evaluate, bnBatches, bnOptions, assign } = options;
  let abort: WiderFailure<"GeometryError"> | undefined;
  try {
    return await evaluatePlanWith(
      plan,
      async (weights) => {
        const evaluated = await withWeights(
          model,
          weights,
          async () => {
            if (bnBatches !== undefined) {
              const batches = typeof bnBatches === "function" ? bnBatches() : bnBatches;
              await updateBatchNorm(model, batches, bnOptions);
            }
            return evaluate(model);
          },
          assign,
        );
        if (E.isLeft(evaluated)) {
          // Unwinds the evaluation loop; caught below (this very object) and returned as the Left.
          abort = new WiderFailure(
            geometryError(
              "shape",
              `the plan's weights do not fit the model: ${evaluated.left.message}`,
              {
                ...(evaluated.left.path === undefined ? {} : { path: evaluated.left.path }),
                fix: "evaluate the plan on a model of the architecture its weights come from",
              },
            ),
          );
          throw abort;
        }
        return evaluated.right;
      },
      options,
    );
  } catch (e) {
    if (abort !== undefined && e === abort) return E.left(abort.toError());
    throw e;
  }
};
