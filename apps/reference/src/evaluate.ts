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
  predictionMetrics,
} from "@wider/ensembling";
import { assignToModel, type Weights } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { type AppDataset, evalBatch } from "./dataset.js";

/** Test-set scores of each solution. */
export interface Evaluation {
  readonly pretrained: PredictionMetrics;
  readonly sgd: PredictionMetrics;
  readonly swa: PredictionMetrics;
  readonly fge: PredictionMetrics & { readonly members: number };
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
): PredictionMetrics => {
  orThrow(assignToModel(model, w));
  const p = predictProbabilities(model, data, indices);
  try {
    return orThrow(predictionMetrics(p, labelsOf(data, indices)));
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
): PredictionMetrics & { readonly members: number } => {
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
      return { ...orThrow(predictionMetrics(mean, labelsOf(data, indices))), members: sum.count };
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

/** Evaluates the pretrained point, SGD, SWA and FGE on `indices` of the test split. */
export const evaluateAll = async (
  model: tfl.LayersModel,
  trained: {
    readonly pretrained: Weights;
    readonly sgd: Weights;
    readonly swa: Weights;
    readonly fge: readonly Weights[];
  },
  data: AppDataset,
  indices: Int32Array,
): Promise<Evaluation> => ({
  pretrained: scoreWeights(model, trained.pretrained, data, indices),
  sgd: scoreWeights(model, trained.sgd, data, indices),
  swa: scoreWeights(model, trained.swa, data, indices),
  fge: scoreEnsemble(model, trained.fge, data, indices),
  fgeVsAverage: await fgeVsAverage(model, trained.fge, data, indices),
});
