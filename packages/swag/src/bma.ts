/**
 * Bayesian model averaging over SWAG samples, and MultiSWAG over several independent SWAG runs:
 * for each sample, swap the sampled weights into the model, re-estimate BatchNorm statistics
 * when the model has BatchNorm layers, predict in inference mode and add the softmax
 * probabilities to a running sum per evaluation set (`@wider/ensembling`'s probability sum), so
 * memory is O(1) in the number of samples. The model's own weights come back at the end.
 *
 * @module
 */

import type * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { batchNormLayers, updateBatchNorm } from "@wider/averaging";
import {
  accumulateProbabilities,
  type BatchNormOptions,
  disposeProbabilitySum,
  type EnsemblingError,
  type EvalSets,
  ensemblingError,
  initProbabilitySum,
  type ModelEnsembleOptions,
  meanProbabilities,
  type ProbabilitySum,
  predictProbabilities,
} from "@wider/ensembling";
import { type ErrorDetails, type ErrorKind, isWiderError } from "@wider/errors";
import { assignToModel, disposeWeights, withWeights } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { fail } from "./errors.js";
import type { SwagState } from "./SwagState.js";
import { DEFAULT_SCALE, type SampleOptions, swagSampleSeeded } from "./sample.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Options of {@link bayesianModelAverage}. */
export interface BmaOptions extends SampleOptions, ModelEnsembleOptions {
  /** S, the number of samples in all (default 30); MultiSWAG splits them over the states. */
  readonly samples?: number;
  /** Seed of the draws (default 0): sample `j` of state `i` uses its own seed derived from it. */
  readonly seed?: number;
  /**
   * BatchNorm re-estimation per sample (required when the model has BatchNorm layers, as the
   * sampled weights change the statistics): `batches` from the training set.
   */
  readonly batchNorm?: BatchNormOptions;
}

/** The paper's number of SWAG samples. */
export const DEFAULT_SAMPLES = 30;

// -------------------------------------------------------------------------------------
// pure helpers
// -------------------------------------------------------------------------------------

/**
 * MultiSWAG's split of `samples` over `states` runs: each gets `floor(samples / states)`, and the
 * first `samples mod states` runs one more, so the total is exactly `samples`.
 *
 * @example
 * allocateSamples(30, 4) // [8, 8, 7, 7]
 */
export const allocateSamples = (samples: number, states: number): number[] => {
  const base = Math.floor(samples / states);
  const extra = samples % states;
  return Array.from({ length: states }, (_, i) => base + (i < extra ? 1 : 0));
};

/** The seed of sample `j` of state `i` for a user seed (distinct for distinct `(i, j)`). */
export const sampleSeed = (seed: number, state: number, sample: number): number =>
  seed * 1_000_003 + state * 10_007 + sample;

const inputError = (
  kind: ErrorKind,
  message: string,
  details?: ErrorDetails,
): E.Either<EnsemblingError, never> => E.left(ensemblingError(kind, message, details));

const checkOptions = (
  model: tfl.LayersModel,
  states: readonly SwagState[],
  keys: readonly string[],
  options: BmaOptions,
): E.Either<EnsemblingError, number[]> => {
  const samples = options.samples ?? DEFAULT_SAMPLES;
  const scale = options.scale ?? DEFAULT_SCALE;
  const rank = options.rank ?? "lowrank";
  const seed = options.seed ?? 0;
  // Options written in code: thrown.
  if (!(Number.isFinite(scale) && scale >= 0)) {
    fail("config", `scale is ${scale}; pass a finite number >= 0 (the paper uses 0.5)`, {
      path: "scale",
      value: scale,
      fix: "a finite number >= 0 (the paper uses 0.5)",
    });
  }
  if (rank !== "diag" && rank !== "lowrank") {
    fail("config", `rank is ${JSON.stringify(rank)}; pass "diag" or "lowrank"`, {
      path: "rank",
      value: rank,
      fix: '"diag" or "lowrank"',
    });
  }
  if (!Number.isSafeInteger(seed)) {
    fail("config", `seed is ${seed}; pass an integer`, {
      path: "seed",
      value: seed,
      fix: "an integer",
    });
  }
  if (keys.length === 0) {
    fail("config", "evalSets is empty; pass at least one set, e.g. { test: xTest }", {
      path: "evalSets",
      fix: "at least one set, e.g. { test: xTest }",
    });
  }
  if (options.batchNorm === undefined && batchNormLayers(model).length > 0) {
    fail(
      "config",
      "the model has BatchNorm layers; pass batchNorm: { batches } (training data) to re-estimate their statistics for every sample",
      { path: "batchNorm", fix: "batchNorm: { batches } (training data)" },
    );
  }
  // The states (collected at run time, or loaded): returned.
  if (states.length === 0) {
    return inputError("config", "states is empty; pass at least one SWAG state", {
      path: "states",
      fix: "at least one SWAG state",
    });
  }
  const empty = states.findIndex((s) => s.n === 0 || s.mean === null);
  if (empty >= 0) {
    return inputError(
      "config",
      `states[${empty}] has collected nothing; collect weights before sampling`,
      { path: `states[${empty}]`, fix: "collect weights before sampling" },
    );
  }
  if (!Number.isSafeInteger(samples) || samples < states.length) {
    return inputError(
      "config",
      `samples is ${samples}; pass an integer >= the number of SWAG states (${states.length}), e.g. 30`,
      { path: "samples", value: samples, fix: `an integer >= ${states.length}, e.g. 30` },
    );
  }
  return E.right(allocateSamples(samples, states.length));
};

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

// -------------------------------------------------------------------------------------
// prediction
// -------------------------------------------------------------------------------------

/**
 * The Bayesian model average of SWAG (one state) or MultiSWAG (several states, `samples` split by
 * {@link allocateSamples}): the mean softmax probabilities over the samples, per evaluation set,
 * as new `[n, K]` tensors the caller owns. With `scale: 0` every sample is the SWA mean.
 *
 * @example
 * const r = await bayesianModelAverage(model, state, { test: xTest }, { samples: 30, seed: 1 });
 * // Right({ test: Tensor2D }) with the BMA class probabilities
 */
export const bayesianModelAverage = async <K extends string>(
  model: tfl.LayersModel,
  states: SwagState | readonly SwagState[],
  evalSets: EvalSets<K>,
  options: BmaOptions = {},
): Promise<E.Either<EnsemblingError, Record<K, tf.Tensor2D>>> => {
  const list: readonly SwagState[] = Array.isArray(states) ? states : [states as SwagState];
  const keys = Object.keys(evalSets) as K[];
  const plan = checkOptions(model, list, keys, options);
  if (E.isLeft(plan)) return plan;
  const seed = options.seed ?? 0;
  const sampleOptions: SampleOptions = {
    scale: options.scale ?? DEFAULT_SCALE,
    rank: options.rank ?? "lowrank",
  };
  const sums = new Map<K, ProbabilitySum>(keys.map((k) => [k, initProbabilitySum()]));
  const visit = async (): Promise<E.Either<EnsemblingError, void>> => {
    for (const [i, state] of list.entries()) {
      for (let j = 0; j < plan.right[i]!; j++) {
        const w = swagSampleSeeded(state, { ...sampleOptions, seed: sampleSeed(seed, i, j) });
        try {
          const a = assignToModel(model, w);
          if (E.isLeft(a)) {
            return inputError(
              a.left.kind,
              `could not assign the sample of states[${i}]: ${a.left.message}`,
              a.left.path === undefined ? {} : { path: a.left.path },
            );
          }
        } finally {
          disposeWeights(w);
        }
        if (options.batchNorm !== undefined) {
          const { batches, weighting, disposeBatches } = options.batchNorm;
          try {
            await updateBatchNorm(model, typeof batches === "function" ? batches() : batches, {
              ...(weighting === undefined ? {} : { weighting }),
              ...(disposeBatches === undefined ? {} : { disposeBatches }),
            });
          } catch (e) {
            return inputError(
              isWiderError(e) ? e.kind : "config",
              `batchNorm.batches: re-estimating BatchNorm failed: ${errorText(e)}`,
              { path: "batchNorm.batches" },
            );
          }
        }
        for (const k of keys) {
          const p = predictProbabilities(model, evalSets[k], options);
          if (E.isLeft(p)) return p;
          const next = accumulateProbabilities(sums.get(k) ?? initProbabilitySum(), p.right);
          p.right.dispose();
          if (E.isLeft(next)) return next;
          sums.set(k, next.right);
        }
      }
    }
    return E.right(undefined);
  };
  try {
    // withWeights saves and restores every model weight (BatchNorm statistics included) once.
    const done = await withWeights(model, list[0]!.mean!, visit);
    if (E.isLeft(done)) {
      return inputError(
        done.left.kind,
        `could not assign the SWAG mean to the model: ${done.left.message}`,
        done.left.path === undefined ? {} : { path: done.left.path },
      );
    }
    if (E.isLeft(done.right)) return done.right;
    const out: Partial<Record<K, tf.Tensor2D>> = {};
    for (const k of keys) {
      const mean = meanProbabilities(sums.get(k) ?? initProbabilitySum());
      if (E.isLeft(mean)) {
        for (const t of Object.values(out) as tf.Tensor[]) t.dispose();
        return mean;
      }
      out[k] = mean.right;
    }
    return E.right(out as Record<K, tf.Tensor2D>);
  } finally {
    for (const s of sums.values()) disposeProbabilitySum(s);
  }
};
