/**
 * How the geometry phase (`geometry.ts`) evaluates its points: the per-point evaluator (train and
 * test metrics on `geometrySubset` images, BatchNorm re-estimated when the model has it), shared
 * with the trajectory plane and the distributed workers, and the plan evaluator that keeps each
 * plan's results for a resume (or hands plans to `wider --geometry-redis` workers).
 *
 * @module
 */
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import {
  disposePlan,
  evaluateClassifier,
  evaluatePlan,
  type Metrics,
  type Plan,
  type PlanResults,
} from "@wider/geometry";
import type { Weights } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { AppError, Interrupted } from "./AppError.js";
import type { Config } from "./config.js";
import { type AppDataset, evalBatch } from "./dataset.js";
import { hasBatchNorm } from "./models.js";
import type { Progress } from "./progress.js";

/** The value of `e`, or an {@link AppError} (exit 1) naming the geometry step `what`. */
export const orThrow = <A>(e: E.Either<{ readonly message: string }, A>, what: string): A => {
  if (E.isLeft(e)) throw new AppError(`geometry (${what}): ${e.left.message}`, 1);
  return e.right;
};

/** Only the trainable weights of a solution (directions, plans and projections live in that space). */
export const trainable = (w: Weights, keys: readonly string[]): Weights =>
  Object.fromEntries(keys.map((k) => [k, w[k] as tf.Tensor]));

/** How each geometry point is evaluated: what `evaluatePlan` (or a worker's point job) takes. */
export interface GeometryEvaluator {
  readonly evaluate: (m: tfl.LayersModel) => Promise<Metrics>;
  /** BatchNorm re-estimation batches (models with BatchNorm only). */
  readonly bnBatches: (() => Generator<tf.Tensor>) | undefined;
  /** Frees the evaluation images. */
  readonly dispose: () => void;
}

/**
 * The geometry evaluation of a run: `geometrySubset` train and test images through
 * `evaluateClassifier`, and (with BatchNorm) re-estimation batches of `batchSize` from the same
 * train images. `wider worker` builds the very same one for distributed plane points, so their
 * results equal the local ones bit for bit on the same backend. `phase` names the phase in the
 * interruption message.
 */
export const geometryEvaluator = (
  config: Config,
  model: tfl.LayersModel,
  data: AppDataset,
  signal: { readonly aborted: boolean },
  phase = "geometry",
): GeometryEvaluator => {
  const nTrain = Math.min(config.geometrySubset, data.train.count);
  const nTest = Math.min(config.geometrySubset, data.test.count);
  const idx = (n: number) => Int32Array.from({ length: n }, (_, i) => i);
  const train = evalBatch(data, data.train, idx(nTrain));
  const test = evalBatch(data, data.test, idx(nTest));
  const classify = evaluateClassifier(
    { train: { x: train.x, y: train.y }, test: { x: test.x, y: test.y } },
    { fromLogits: true, batchSize: 500 },
  );
  const evaluate = (m: tfl.LayersModel) => {
    if (signal.aborted) throw new Interrupted(`in ${phase}; its results so far are kept`);
    return classify(m);
  };
  // BatchNorm statistics re-estimated at each point on the geometry train images.
  const bnBatches = hasBatchNorm(model)
    ? () =>
        (function* () {
          for (let i = 0; i < nTrain; i += config.batchSize) {
            const b = evalBatch(
              data,
              data.train,
              idx(Math.min(config.batchSize, nTrain - i)).map((k) => k + i),
            );
            b.y.dispose();
            yield b.x;
          }
        })()
    : undefined;
  return {
    evaluate,
    bnBatches,
    dispose: () => tf.dispose([train.x, train.y, test.x, test.y]),
  };
};

/**
 * Evaluates a plan elsewhere (distributed geometry: `wider --geometry-redis`); `onProgress` gets
 * the points done so far. Its results must be what `evaluatePlan` gives (the same evaluator).
 */
export type RemotePlans = (
  plan: Plan,
  name: string,
  onProgress: (done: number) => void,
) => Promise<PlanResults>;

/** Evaluates plans point by point (see {@link planEvaluator}). */
export interface PlanEvaluator {
  /**
   * Evaluates (or resumes) `plan`, kept in `<resumeDir>/<name>.json`; frees the plan. With
   * `replaceStale`, a result file of another plan is replaced instead of refused.
   */
  readonly run: (plan: Plan, name: string, replaceStale?: boolean) => Promise<PlanResults>;
  /** Points evaluated so far. */
  readonly done: () => number;
  /** Frees the evaluation images. */
  readonly dispose: () => void;
}

/**
 * Evaluates plans with {@link geometryEvaluator}, each plan's results kept in `resumeDir` after
 * every point so that an interrupted phase resumes, or on workers through `remote`. Progress
 * counts points across plans, after the caller's `progress.phase`.
 */
export const planEvaluator = async (
  config: Config,
  model: tfl.LayersModel,
  data: AppDataset,
  resumeDir: string,
  progress: Progress,
  signal: { readonly aborted: boolean },
  phase: string,
  remote?: RemotePlans,
): Promise<PlanEvaluator> => {
  await mkdir(resumeDir, { recursive: true });
  const setup = geometryEvaluator(config, model, data, signal, phase);
  const { evaluate, bnBatches } = setup;
  let done = 0;
  const run = async (plan: Plan, name: string, replaceStale = false): Promise<PlanResults> => {
    const base = done;
    try {
      if (remote !== undefined) {
        const results = await remote(plan, name, (d) =>
          progress.step(base + d, { epoch: 0, epochs: 1, loss: Number.NaN, lr: 0 }),
        );
        done = base + results.results.length;
        return results;
      }
      const file = join(resumeDir, `${name}.json`);
      const once = () =>
        evaluatePlan(plan, {
          model,
          evaluate,
          ...(bnBatches === undefined
            ? {}
            : { bnBatches, bnOptions: { disposeBatches: true } as const }),
          resume: { file },
          onProgress: (p) => {
            progress.step(base + p.done, {
              epoch: 0,
              epochs: 1,
              loss: p.metrics?.trainLoss ?? Number.NaN,
              lr: 0,
            });
          },
        });
      let r = await once();
      if (replaceStale && E.isLeft(r) && r.left.kind === "conflict") {
        await rm(file, { force: true });
        r = await once();
      }
      const results = orThrow(r, name);
      done = base + results.results.length;
      return results;
    } finally {
      disposePlan(plan);
    }
  };
  return { run, done: () => done, dispose: setup.dispose };
};
