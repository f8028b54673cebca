/**
 * The experiment's data, loaded once per process with @wider/data: the (optionally subset)
 * training split, the test set as tensors, and small fixed sets for the geometry.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  type ChannelStats,
  gather,
  loadDataset,
  planBatches,
  type Split,
  shuffledIndices,
  toBatchTensors,
} from "@wider/data";
import * as E from "fp-ts/lib/Either.js";
import type { ExperimentConfig } from "./config.js";

/** A labelled set as tensors: images `[n, 28, 28, 1]`, one-hot labels, and integer labels. */
export interface TensorSet {
  readonly x: tf.Tensor4D;
  readonly y: tf.Tensor2D;
  readonly labels: Int32Array;
}

/** What every seed trains and evaluates on. Free with {@link disposeData}. */
export interface ExperimentData {
  readonly train: Split;
  readonly trainTotal: number;
  readonly stats: ChannelStats;
  readonly dir: string;
  readonly test: TensorSet;
  /** Training images the width rays and the segment are evaluated on. */
  readonly widthTrain: TensorSet;
  /** Test images the segment is evaluated on. */
  readonly widthTest: TensorSet;
}

const tensorSet = (split: Split, indices: Int32Array, stats: ChannelStats): TensorSet => {
  const { xs, ys } = toBatchTensors(split, indices, { normalize: stats });
  const labels = Int32Array.from(indices, (i) => split.labels[i] ?? 0);
  return { x: xs, y: ys as tf.Tensor2D, labels };
};

const range = (n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => i);

/**
 * Loads the data set (a missing directory or a bad file is an Error naming it and the fix).
 * With `trainSubset > 0`, the first n images of a shuffle seeded 1234 are used.
 */
export const loadExperimentData = async (config: ExperimentConfig): Promise<ExperimentData> => {
  const loaded = await loadDataset(
    config.dataset,
    config.dataDir === null ? {} : { dir: config.dataDir },
  );
  if (E.isLeft(loaded)) throw new Error(loaded.left.message);
  const d = loaded.right;
  const train =
    config.trainSubset > 0 && config.trainSubset < d.train.count
      ? gather(d.train, shuffledIndices(d.train.count, 1234).subarray(0, config.trainSubset))
      : d.train;
  const testCount =
    config.testSubset > 0 ? Math.min(config.testSubset, d.test.count) : d.test.count;
  const widthIdx = shuffledIndices(train.count, 4321).subarray(
    0,
    Math.min(config.widthSamples, train.count),
  );
  return {
    train,
    trainTotal: d.train.count,
    stats: d.stats,
    dir: d.dir,
    test: tensorSet(d.test, range(testCount), d.stats),
    widthTrain: tensorSet(train, Int32Array.from(widthIdx), d.stats),
    widthTest: tensorSet(d.test, range(Math.min(config.widthSamples, testCount)), d.stats),
  };
};

/** Frees the tensors of the data. */
export const disposeData = (data: ExperimentData): void => {
  for (const s of [data.test, data.widthTrain, data.widthTest]) tf.dispose([s.x, s.y]);
};

/**
 * The batch of global step `step`: epoch `floor(step / stepsPerEpoch)` is a permutation seeded by
 * (seed, epoch), the last partial batch dropped; every branch sees the same batch at the same step.
 * Returns tensors the caller owns.
 */
export const batchSource = (data: ExperimentData, batchSize: number, seed: number) => {
  const stepsPerEpoch = Math.floor(data.train.count / batchSize);
  const plans = new Map<number, readonly Int32Array[]>();
  return (step: number): { xs: tf.Tensor4D; ys: tf.Tensor } => {
    const epoch = Math.floor(step / stepsPerEpoch);
    let plan = plans.get(epoch);
    if (plan === undefined) {
      plan = planBatches({
        count: data.train.count,
        batchSize,
        seed: seed * 100_003 + epoch,
        dropRemainder: true,
      });
      plans.clear();
      plans.set(epoch, plan);
    }
    const indices = plan[step % stepsPerEpoch]!;
    const { xs, ys } = toBatchTensors(data.train, indices, { normalize: data.stats });
    return { xs, ys };
  };
};
