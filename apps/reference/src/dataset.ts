/**
 * Data for the app, from `@wider/data`: the named data set, the seeded training subset, and
 * seeded batches turned into tensors one at a time (standardised with the train split's channel
 * statistics; CIFAR's crop-and-flip augmentation for 32x32 training batches, none for 28x28).
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";
import {
  type Augmentation,
  type ChannelStats,
  deriveSeed,
  gather,
  loadDataset,
  planBatches,
  type Split,
  shuffledIndices,
  toBatchTensors,
} from "@wider/data";
import * as E from "fp-ts/lib/Either.js";
import { AppError } from "./AppError.js";
import type { Config } from "./config.js";

export type { Split } from "@wider/data";

/** What the app trains on: the (sub)set of training images and the test images. */
export interface AppDataset {
  readonly name: string;
  /** The training images used: a seeded subset when `trainSubset` is set, else all. */
  readonly train: Split;
  /** How many training images the data set has. */
  readonly trainTotal: number;
  readonly test: Split;
  readonly imageShape: readonly [number, number, number];
  readonly classes: number;
  /** Per-channel mean and std of the full train split, on the 0..1 scale. */
  readonly stats: ChannelStats;
  /** Where the files came from (for the report). */
  readonly source: string;
}

/**
 * Loads the configured data set; user mistakes (missing directory, bad files) become
 * {@link AppError}s naming the file and the fix. `trainSubset` keeps the first `n` images of a
 * shuffle seeded by `dataSeed`; `testSubset` the first `n` test images.
 */
export const loadAppDataset = async (config: Config): Promise<AppDataset> => {
  const r = await loadDataset(
    config.dataset,
    config.dataDir === null ? {} : { dir: config.dataDir },
  );
  if (E.isLeft(r)) throw new AppError(r.left.message, 1);
  const d = r.right;
  const n = config.trainSubset;
  const train =
    n === 0 || n >= d.train.count
      ? d.train
      : gather(d.train, shuffledIndices(d.train.count, config.dataSeed).subarray(0, n));
  const m = config.testSubset;
  const test =
    m === 0 || m >= d.test.count
      ? d.test
      : gather(
          d.test,
          Int32Array.from({ length: m }, (_, i) => i),
        );
  return {
    name: d.name,
    train,
    trainTotal: d.train.count,
    test,
    imageShape: [...d.imageShape] as [number, number, number],
    classes: d.numClasses,
    stats: d.stats,
    source: d.dir,
  };
};

/** Number of training steps in one epoch (full batches only: the remainder is dropped). */
export const stepsPerEpoch = (count: number, batchSize: number): number =>
  Math.floor(count / batchSize);

/** The batches of training epoch `epoch`: a permutation seeded by `(dataSeed, epoch)`. */
export const epochPlan = (config: Config, count: number, epoch: number): readonly Int32Array[] =>
  planBatches({
    count,
    batchSize: config.batchSize,
    seed: deriveSeed(config.dataSeed, epoch),
    dropRemainder: true,
  });

/**
 * The training augmentation of a config: `none`; `crop-flip` (random crop after zero padding of 2
 * pixels for 28x28 images, 4 for larger, and a random horizontal flip); `default` (crop-flip for
 * 32x32 images only, as `@wider/data`'s default).
 */
export const augmentationOf = (
  augment: Config["augment"],
  imageShape: readonly [number, number, number],
): Augmentation | "default" =>
  augment === "none"
    ? { cropPadding: 0, horizontalFlip: false }
    : augment === "crop-flip"
      ? { cropPadding: imageShape[0] <= 28 ? 2 : 4, horizontalFlip: true }
      : "default";

/** A training batch as tensors (augmented as `augment` says); the caller owns them. */
export const trainBatch = (
  data: AppDataset,
  idx: ArrayLike<number>,
  seed: number,
  augment: Config["augment"] = "default",
): { x: tf.Tensor4D; y: tf.Tensor1D } => {
  const b = toBatchTensors(data.train, idx, {
    normalize: data.stats,
    oneHot: false,
    augment: augmentationOf(augment, data.imageShape),
    seed,
  });
  return { x: b.xs, y: b.ys as tf.Tensor1D };
};

/** An evaluation batch of `split` (no augmentation) as tensors; the caller owns them. */
export const evalBatch = (
  data: AppDataset,
  split: Split,
  idx: ArrayLike<number>,
): { x: tf.Tensor4D; y: tf.Tensor1D } => {
  const b = toBatchTensors(split, idx, { normalize: data.stats, oneHot: false });
  return { x: b.xs, y: b.ys as tf.Tensor1D };
};

/** Consecutive index ranges `[0, n)` in chunks of `size`. */
export const ranges = (n: number, size: number): Int32Array[] => {
  const out: Int32Array[] = [];
  for (let i = 0; i < n; i += size)
    out.push(Int32Array.from({ length: Math.min(size, n - i) }, (_, k) => i + k));
  return out;
};
