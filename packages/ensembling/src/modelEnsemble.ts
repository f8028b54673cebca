/**
 * Ensembling snapshots of one tfjs-layers model: each member's weights are
 * loaded one at a time (from memory or disk), assigned to the model, optionally
 * BatchNorm-re-estimated, and predicted in inference mode (`model.predict`,
 * batched over x); the softmax probabilities are added to a running sum per
 * evaluation set, so memory is O(1) in the number of members. The model's own
 * weights (all of them, BatchNorm statistics included) are restored after each member (`withWeights`).
 *
 * Snapshots move between model instances by variable name: build the model with
 * explicit layer names (see `@wider/weights`).
 *
 * @module modelEnsemble
 */

import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { type Batches, updateBatchNorm } from "@wider/averaging";
import { isWiderError } from "@wider/errors";
import { disposeWeights, type Weights, withWeights } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { checkBatchSize } from "./ensemblePredict.js";
import { type EnsembleVsSwaReport, ensembleVsSwa } from "./ensembleVsSwa.js";
import { type EnsemblingError, ensemblingError, fail } from "./errors.js";
import type { LabelInput } from "./predictionSet.js";
import {
  accumulateProbabilities,
  disposeProbabilitySum,
  initProbabilitySum,
  meanProbabilities,
  type OutputOptions,
  type ProbabilitySum,
  toProbabilities,
} from "./probabilitySum.js";
import { meanOfSnapshots, type Snapshot, type SnapshotState, withSnapshot } from "./snapshots.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * BatchNorm re-estimation for each member (and for the SWA weights in {@link compareEnsembleToSwa})
 * with `updateBatchNorm` from `@wider/averaging`: `batches` is a re-iterable collection (an array,
 * a `tf.data.Dataset`) or a factory returning a fresh iterable for each member (needed for
 * generators, which can be iterated once). A batch is `x`, `[x, y]` or `{ xs, ys }`.
 */
export interface BatchNormOptions {
  readonly batches: Batches | (() => Batches);
  /** `"batch"` (default, PyTorch `update_bn`) or `"samples"` (the SWA authors' `bn_update`). */
  readonly weighting?: "batch" | "samples";
  /**
   * Dispose each batch after its pass (default false). Set it when the factory makes fresh
   * tensors per call (e.g. a generator decoding images), or every member's pass leaks them.
   */
  readonly disposeBatches?: boolean;
}

/**
 * Options of the model-level ensembles: `batchSize` rows per `predict` call (default 256), `logits`
 * if the model outputs logits, `batchNorm` to re-estimate BatchNorm statistics per member.
 */
export interface ModelEnsembleOptions extends OutputOptions {
  readonly batchSize?: number;
  readonly batchNorm?: BatchNormOptions;
}

/** Snapshots to ensemble: a collector's state or a list of snapshots. */
export type Members = SnapshotState | readonly Snapshot[];

/** Evaluation sets by name, e.g. `{ test: xTest, train: xTrain }`. */
export type EvalSets<K extends string> = Readonly<Record<K, tf.Tensor>>;

/** Default rows per `model.predict` call. */
export const DEFAULT_PREDICT_BATCH = 256;

// -------------------------------------------------------------------------------------
// internal
// -------------------------------------------------------------------------------------

const listOf = (members: Members): readonly Snapshot[] =>
  "snapshots" in members ? members.snapshots : (members as readonly Snapshot[]);

/** Re-estimates the model's BatchNorm statistics when asked to. */
const reestimateBatchNorm = async (
  model: tfl.LayersModel,
  what: string,
  batchNorm: BatchNormOptions | undefined,
): Promise<E.Either<EnsemblingError, void>> => {
  if (batchNorm === undefined) return E.right(undefined);
  const { batches, weighting, disposeBatches } = batchNorm;
  try {
    await updateBatchNorm(model, typeof batches === "function" ? batches() : batches, {
      ...(weighting === undefined ? {} : { weighting }),
      ...(disposeBatches === undefined ? {} : { disposeBatches }),
    });
  } catch (e) {
    return E.left(
      ensemblingError(
        isWiderError(e) ? e.kind : "config",
        `batchNorm.batches: re-estimating BatchNorm for ${what} failed: ${
          e instanceof Error ? e.message : String(e)
        }`,
        { path: "batchNorm.batches" },
      ),
    );
  }
  return E.right(undefined);
};

/**
 * Runs `body` with `weights` in the model (BatchNorm statistics re-estimated when asked to), then
 * restores all of the model's own weights (`withWeights` from `@wider/weights`).
 */
const onWeights = async <A>(
  model: tfl.LayersModel,
  weights: Weights,
  what: string,
  batchNorm: BatchNormOptions | undefined,
  body: () => E.Either<EnsemblingError, A>,
): Promise<E.Either<EnsemblingError, A>> => {
  const r = await withWeights(model, weights, async () => {
    const bn = await reestimateBatchNorm(model, what, batchNorm);
    return E.isLeft(bn) ? bn : body();
  });
  return E.isLeft(r)
    ? E.left(
        ensemblingError(r.left.kind, `could not assign ${what} to the model: ${r.left.message}`, {
          ...(r.left.path === undefined ? {} : { path: r.left.path }),
          ...(r.left.fix === undefined ? {} : { fix: r.left.fix }),
        }),
      )
    : r.right;
};

/** Visits each member with its weights assigned to the model, one at a time. */
const forEachMember = async (
  model: tfl.LayersModel,
  members: Members,
  batchNorm: BatchNormOptions | undefined,
  visit: (index: number) => E.Either<EnsemblingError, void>,
): Promise<E.Either<EnsemblingError, void>> => {
  const list = listOf(members);
  if (list.length === 0) {
    return E.left(
      ensemblingError("config", "the ensemble has 0 members; collect at least one snapshot"),
    );
  }
  for (const [i, s] of list.entries()) {
    const r = await withSnapshot(s, (w) =>
      onWeights(model, w, `the snapshot of step ${s.step}`, batchNorm, () => visit(i)),
    );
    if (E.isLeft(r)) return r;
  }
  return E.right(undefined);
};

const checkSets = <K extends string>(
  evalSets: EvalSets<K>,
): E.Either<EnsemblingError, readonly K[]> => {
  const keys = Object.keys(evalSets) as K[];
  return keys.length === 0
    ? fail("config", "evalSets is empty; pass at least one set, e.g. { test: xTest }", {
        path: "evalSets",
        fix: "at least one set, e.g. { test: xTest }",
      })
    : E.right(keys);
};

// -------------------------------------------------------------------------------------
// prediction
// -------------------------------------------------------------------------------------

/**
 * One model's class probabilities on `x` in inference mode (`model.predict`, `batchSize` rows at a
 * time), softmax applied when `logits`; a new `[n, K]` tensor the caller owns.
 *
 * @example
 * const p = predictProbabilities(model, xTest, { batchSize: 512 }); // Either<EnsemblingError, Tensor2D>
 */
export const predictProbabilities = (
  model: tfl.LayersModel,
  x: tf.Tensor,
  options: ModelEnsembleOptions = {},
): E.Either<EnsemblingError, tf.Tensor2D> => {
  const batchSize = checkBatchSize(options.batchSize);
  if (E.isLeft(batchSize)) return batchSize;
  const out = model.predict(x, { batchSize: batchSize.right ?? DEFAULT_PREDICT_BATCH });
  if (Array.isArray(out)) {
    tf.dispose(out);
    return E.left(
      ensemblingError(
        "shape",
        `the model has ${out.length} outputs; ensembling needs a single [samples, classes] output`,
      ),
    );
  }
  const single = out as tf.Tensor;
  const probs = toProbabilities(single, options, "model output");
  single.dispose();
  return probs;
};

/**
 * The ensemble's averaged softmax probabilities on each evaluation set, streamed (one running sum
 * per set, one member loaded at a time); new `[n, K]` tensors the caller owns. The model's weights
 * are restored afterwards.
 *
 * @example
 * const r = await ensembleProbabilities(model, state, { test: xTest }); // Right({ test: Tensor2D })
 */
export const ensembleProbabilities = async <K extends string>(
  model: tfl.LayersModel,
  members: Members,
  evalSets: EvalSets<K>,
  options: ModelEnsembleOptions = {},
): Promise<E.Either<EnsemblingError, Record<K, tf.Tensor2D>>> => {
  const keys = checkSets(evalSets);
  if (E.isLeft(keys)) return keys;
  const sums = new Map<K, ProbabilitySum>(keys.right.map((k) => [k, initProbabilitySum()]));
  try {
    const done = await forEachMember(model, members, options.batchNorm, () => {
      for (const k of keys.right) {
        const p = predictProbabilities(model, evalSets[k], options);
        if (E.isLeft(p)) return p;
        const next = accumulateProbabilities(sums.get(k) ?? initProbabilitySum(), p.right);
        p.right.dispose();
        if (E.isLeft(next)) return next;
        sums.set(k, next.right);
      }
      return E.right(undefined);
    });
    if (E.isLeft(done)) return done;
    const out: Partial<Record<K, tf.Tensor2D>> = {};
    for (const k of keys.right) {
      const mean = meanProbabilities(sums.get(k) ?? initProbabilitySum());
      if (E.isLeft(mean)) {
        tf.dispose(Object.values(out) as tf.Tensor[]);
        return mean;
      }
      out[k] = mean.right;
    }
    return E.right(out as Record<K, tf.Tensor2D>);
  } finally {
    for (const s of sums.values()) disposeProbabilitySum(s);
  }
};

/**
 * Every member's probabilities on each evaluation set (all kept: memory O(members)), in member
 * order; new tensors the caller owns. For diagnostics that need each member, such as
 * {@link ensembleVsSwa}; use {@link ensembleProbabilities} when only the average is needed.
 */
export const memberProbabilities = async <K extends string>(
  model: tfl.LayersModel,
  members: Members,
  evalSets: EvalSets<K>,
  options: ModelEnsembleOptions = {},
): Promise<E.Either<EnsemblingError, Record<K, tf.Tensor2D[]>>> => {
  const keys = checkSets(evalSets);
  if (E.isLeft(keys)) return keys;
  const out = Object.fromEntries(keys.right.map((k) => [k, [] as tf.Tensor2D[]])) as Record<
    K,
    tf.Tensor2D[]
  >;
  const done = await forEachMember(model, members, options.batchNorm, () => {
    for (const k of keys.right) {
      const p = predictProbabilities(model, evalSets[k], options);
      if (E.isLeft(p)) return p;
      out[k].push(p.right);
    }
    return E.right(undefined);
  });
  if (E.isLeft(done)) {
    for (const k of keys.right) tf.dispose(out[k]);
    return done;
  }
  return E.right(out);
};

/** Options of {@link compareEnsembleToSwa}: `swa` weights (default: the mean of the members' weights) and optional `labels`. */
export interface CompareOptions extends ModelEnsembleOptions {
  readonly swa?: Weights;
  readonly labels?: LabelInput;
}

/**
 * Section 3.5 measured on a model: predicts every member on `x`, and the SWA weights
 * (`options.swa`, or the mean of the members' weights) with the same model, then reports
 * {@link ensembleVsSwa}. With `batchNorm`, BatchNorm statistics are re-estimated for every member
 * and for the SWA weights (as the SWA paper does). Memory is O(members) probability sets; the
 * model's weights are restored.
 *
 * @example
 * const r = await compareEnsembleToSwa(model, state, xTest, { labels: yTest });
 * // Right({ ensembleSwaTv: 0.003, memberPairwiseTv: 0.04, gapToSpreadRatio: 0.07, ... })
 */
export const compareEnsembleToSwa = async (
  model: tfl.LayersModel,
  members: Members,
  x: tf.Tensor,
  options: CompareOptions = {},
): Promise<E.Either<EnsemblingError, EnsembleVsSwaReport>> => {
  const perMember = await memberProbabilities(model, members, { x }, options);
  if (E.isLeft(perMember)) return perMember;
  const probs = perMember.right.x;
  try {
    let swa: Weights;
    let ownSwa = false;
    if (options.swa === undefined) {
      const mean = await meanOfSnapshots(listOf(members));
      if (E.isLeft(mean)) return mean;
      swa = mean.right;
      ownSwa = true;
    } else {
      swa = options.swa;
    }
    try {
      const pSwa = await onWeights(model, swa, "the SWA weights", options.batchNorm, () =>
        predictProbabilities(model, x, options),
      );
      if (E.isLeft(pSwa)) return pSwa;
      try {
        return ensembleVsSwa(
          probs,
          pSwa.right,
          options.labels === undefined ? {} : { labels: options.labels },
        );
      } finally {
        pSwa.right.dispose();
      }
    } finally {
      if (ownSwa) disposeWeights(swa);
    }
  } finally {
    tf.dispose(probs);
  }
};
