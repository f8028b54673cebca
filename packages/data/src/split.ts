/**
 * A split of a data set (train, validation, test): uint8 images in HWC order and uint8
 * labels, kept as they are in memory; only batches become float32 tensors.
 */

import { misuse } from "./errors.js";
import { shuffledIndices } from "./random.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Height, width and channels of one image, as TensorFlow.js expects (`NHWC`). */
export type ImageShape = readonly [height: number, width: number, channels: number];

/**
 * `count` images and labels. Image `i` is
 * `images.subarray(i * h * w * c, (i + 1) * h * w * c)`, rows first, channels last.
 */
export interface Split {
  readonly images: Uint8Array;
  readonly labels: Uint8Array;
  readonly count: number;
  readonly imageShape: ImageShape;
  /** Labels lie in 0..numClasses-1. */
  readonly numClasses: number;
}

/** Pixels per image: `h * w * c`. */
export const pixelsPerImage = (shape: ImageShape): number => shape[0] * shape[1] * shape[2];

// -------------------------------------------------------------------------------------
// combinators
// -------------------------------------------------------------------------------------

/**
 * The first `min(n, count)` examples, as views on the same memory (no copy): for quick
 * runs and tests. Throws a `WiderFailure` if `n` is not a non-negative integer.
 * @example
 * const small = subset(dataset.train, 1000);
 */
export const subset = (split: Split, n: number): Split => {
  if (!Number.isInteger(n) || n < 0) {
    misuse("config", `subset: n must be a non-negative integer, got ${n}`, { path: "n", value: n });
  }
  const count = Math.min(n, split.count);
  const pixels = pixelsPerImage(split.imageShape);
  return {
    ...split,
    images: split.images.subarray(0, count * pixels),
    labels: split.labels.subarray(0, count),
    count,
  };
};

/**
 * A new split holding the examples at `indices`, in that order (copied).
 * Throws a `WiderFailure` for an index outside 0..count-1.
 */
export const gather = (split: Split, indices: ArrayLike<number>): Split => {
  const pixels = pixelsPerImage(split.imageShape);
  const images = new Uint8Array(indices.length * pixels);
  const labels = new Uint8Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k] ?? -1;
    if (!Number.isInteger(i) || i < 0 || i >= split.count) {
      misuse("shape", `gather: index ${i} is outside 0..${split.count - 1}`, {
        path: `indices[${k}]`,
        value: i,
      });
    }
    images.set(split.images.subarray(i * pixels, (i + 1) * pixels), k * pixels);
    labels[k] = split.labels[i] ?? 0;
  }
  return { ...split, images, labels, count: indices.length };
};

/**
 * Splits off `count` examples chosen by a seeded shuffle: `held` gets them (in shuffled
 * order), `rest` keeps the others in their original order. Throws a `WiderFailure` unless
 * `0 <= count <= split.count`.
 * @example
 * const { rest: train, held: validation } = holdOut(dataset.train, { count: 5000, seed: 0 });
 */
export const holdOut = (
  split: Split,
  options: { readonly count: number; readonly seed: number },
): { readonly rest: Split; readonly held: Split } => {
  const { count, seed } = options;
  if (!Number.isInteger(count) || count < 0 || count > split.count) {
    misuse("config", `holdOut: count must be an integer in 0..${split.count}, got ${count}`, {
      path: "count",
      value: count,
    });
  }
  const order = shuffledIndices(split.count, seed);
  const heldIndices = order.subarray(0, count);
  const rest = order.slice(count).sort();
  return { rest: gather(split, rest), held: gather(split, heldIndices) };
};
