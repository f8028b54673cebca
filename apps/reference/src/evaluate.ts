/**
 * Evaluation of the three solutions on the test set: SGD and SWA as single models, FGE as the
 * average of its snapshots' softmax probabilities (streaming: one member at a time, O(1) memory
 * in members), all scored by `@wider/ensembling`'s metrics (accuracy, NLL, Brier, 15-bin ECE).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import {
  accumulateProbabilities,
  compareEnsembleToSwa,
  disposeProbabilitySum,
  type EnsembleVsSwaReport,
  initProbabilitySum,
  meanProbabilities,
  type PredictionMetrics,
  type ProbabilitySum,
  type ReliabilityBin,
} from "@wider/ensembling";
import { bayesianModelAverage, calibrationReport, type SwagState } from "@wider/swag";
import { assignToModel, type Weights } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { type AppDataset, evalBatch } from "./dataset.js";
import type { Trained } from "./training.js";

/** Scores of one method: the four metrics and its reliability-diagram bins. */
export type MethodScores = PredictionMetrics & { readonly reliability: readonly ReliabilityBin[] };

/** Test-set scores of each solution. */
export interface Evaluation {
  readonly pretrained: MethodScores;
  readonly sgd: MethodScores;
  readonly swa: MethodScores;
  /** The SWA average at `epochs + swaExtend` (only with `swaExtend`). */
  readonly swaExtended?: MethodScores;
  readonly fge: MethodScores & { readonly members: number };
  /** SWAG's Bayesian model average over `swagSamples` samples (only with `swagRank` > 0). */
  readonly swag?: MethodScores & { readonly samples: number; readonly rank: number };
  /**
   * The paper's section 3.5 on the FGE snapshots: their ensemble against the model with their
   * averaged weights (distance between predictions vs the spread between members); `null` with
   * fewer than two snapshots.
   */
  readonly fgeVsAverage: EnsembleVsSwaReport | null;
}

const orThrow = <A>(e: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(`internal: ${e.left.message}`);
  return e.right;
};

const score = (p: tf.Tensor2D, labels: Int32Array): MethodScores => {
  const r = orThrow(calibrationReport(p, labels));
  return { ...r.metrics, reliability: r.reliability };
};

/** Softmax probabilities `[n, classes]` of the model on `indices` of the test split; caller owns. */
export const predictProbabilities = (
  model: tfl.LayersModel,
  data: AppDataset,
  indices: Int32Array,
  batch = 500,
): tf.Tensor2D => {
  const parts: tf.Tensor[] = [];
  for (let i = 0; i < indices.length; i += batch) {
    const { x, y } = evalBatch(data, data.test, indices.subarray(i, i + batch));
    parts.push(tf.tidy(() => tf.softmax(model.apply(x, { training: false }) as tf.Tensor2D)));
    tf.dispose([x, y]);
  }
  const all = tf.concat(parts, 0) as tf.Tensor2D;
  tf.dispose(parts);
  return all;
};

const labelsOf = (data: AppDataset, indices: Int32Array): Int32Array =>
  Int32Array.from(indices, (i) => data.test.labels[i] as number);

/** Scores of one weight set (assigned to `model`). */
export const scoreWeights = (
  model: tfl.LayersModel,
  w: Weights,
  data: AppDataset,
  indices: Int32Array,
): MethodScores => {
  orThrow(assignToModel(model, w));
  const p = predictProbabilities(model, data, indices);
  try {
    return score(p, labelsOf(data, indices));
  } finally {
    p.dispose();
  }
};

/** Scores of the FGE ensemble: the mean of the members' probabilities. */
export const scoreEnsemble = (
  model: tfl.LayersModel,
  members: readonly Weights[],
  data: AppDataset,
  indices: Int32Array,
): MethodScores & { readonly members: number } => {
  let sum: ProbabilitySum = initProbabilitySum();
  try {
    for (const w of members) {
      orThrow(assignToModel(model, w));
      const p = predictProbabilities(model, data, indices);
      const next = accumulateProbabilities(sum, p);
      p.dispose();
      sum = orThrow(next);
    }
    const mean = orThrow(meanProbabilities(sum));
    try {
      return { ...score(mean as tf.Tensor2D, labelsOf(data, indices)), members: sum.count };
    } finally {
      mean.dispose();
    }
  } finally {
    disposeProbabilitySum(sum);
  }
};

/** Section 3.5: FGE ensemble vs the model with the snapshots' mean weights, on the test images. */
export const fgeVsAverage = async (
  model: tfl.LayersModel,
  members: readonly Weights[],
  data: AppDataset,
  indices: Int32Array,
): Promise<EnsembleVsSwaReport | null> => {
  if (members.length < 2) return null;
  const { x, y } = evalBatch(data, data.test, indices);
  try {
    const r = await compareEnsembleToSwa(
      model,
      members.map((weights, step) => ({ kind: "memory" as const, step, weights })),
      x,
      { labels: y, logits: true, batchSize: 500 },
    );
    return orThrow(r);
  } finally {
    tf.dispose([x, y]);
  }
};

/** SWAG's Bayesian model average on the test images (BatchNorm re-estimated per sample). */
export const scoreSwag = async (
  model: tfl.LayersModel,
  state: SwagState | readonly SwagState[],
  data: AppDataset,
  indices: Int32Array,
  options: { samples: number; scale: number; seed: number; bn: (() => Iterable<tf.Tensor>) | null },
): Promise<MethodScores> => {
  const { x, y } = evalBatch(data, data.test, indices);
  y.dispose();
  try {
    const r = await bayesianModelAverage(
      model,
      state,
      { test: x },
      {
        samples: options.samples,
        scale: options.scale,
        seed: options.seed,
        logits: true,
        batchSize: 500,
        ...(options.bn === null
          ? {}
          : { batchNorm: { batches: options.bn, disposeBatches: true } }),
      },
    );
    const p = orThrow(r).test;
    try {
      return score(p, labelsOf(data, indices));
    } finally {
      p.dispose();
    }
  } finally {
    x.dispose();
  }
};

/** Evaluates every trained solution on `indices` of the test split. */
export const evaluateAll = async (
  model: tfl.LayersModel,
  trained: Trained,
  data: AppDataset,
  indices: Int32Array,
  swagOptions: {
    samples: number;
    scale: number;
    seed: number;
    bn: (() => Iterable<tf.Tensor>) | null;
  },
): Promise<Evaluation> => {
  const swag =
    trained.swag === null || trained.swag.n === 0
      ? undefined
      : {
          ...(await scoreSwag(model, trained.swag, data, indices, swagOptions)),
          samples: swagOptions.samples,
          rank: trained.swag.maxRank,
        };
  return {
    pretrained: scoreWeights(model, trained.pretrained, data, indices),
    sgd: scoreWeights(model, trained.sgd, data, indices),
    swa: scoreWeights(model, trained.swa, data, indices),
    ...(trained.swaExtended === null
      ? {}
      : { swaExtended: scoreWeights(model, trained.swaExtended, data, indices) }),
    fge: scoreEnsemble(model, trained.fge, data, indices),
    ...(swag === undefined ? {} : { swag }),
    fgeVsAverage: await fgeVsAverage(model, trained.fge, data, indices),
  };
};
