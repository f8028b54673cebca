/**
 * The tensor stage: turns the examples a plan picks into float32 tensors, one batch at a
 * time, with optional normalisation, one-hot labels and seeded augmentation. The uint8
 * split stays as it is; only the current batch is float32.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { BatchPlan } from "./batchPlan.js";
import { misuse } from "./errors.js";
import { deriveSeed, mulberry32 } from "./random.js";
import { type ImageShape, pixelsPerImage, type Split } from "./split.js";
import type { ChannelStats } from "./stats.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * Standard image augmentation, applied per image in this order (as torchvision's
 * `RandomCrop(size, padding)` then `RandomHorizontalFlip()`): pad with zero pixels by
 * `cropPadding` on every side and crop back to the original size at a random offset;
 * then flip left-right with probability 1/2.
 */
export interface Augmentation {
  readonly cropPadding: number;
  readonly horizontalFlip: boolean;
}

/** No augmentation. */
export const noAugmentation: Augmentation = { cropPadding: 0, horizontalFlip: false };

/**
 * The standard training augmentation for a shape: random crop with padding 4 and
 * horizontal flip for 32x32 images (CIFAR), none otherwise (e.g. 28x28 MNIST).
 */
export const defaultAugmentation = (shape: ImageShape): Augmentation =>
  shape[0] === 32 && shape[1] === 32 ? { cropPadding: 4, horizontalFlip: true } : noAugmentation;

/**
 * How pixels become floats: `"unit"` is `v / 255` in [0, 1]; `"raw"` keeps 0..255;
 * channel statistics standardise, `(v / 255 - mean[c]) / std[c]`.
 */
export type Normalization = "unit" | "raw" | ChannelStats;

/** Options of the tensor stage. */
export interface BatchOptions {
  /** Default `"unit"`. Pass `dataset.stats` to standardise per channel. */
  readonly normalize?: Normalization | undefined;
  /** Labels as float32 one-hot `[b, numClasses]` (default true) or int32 `[b]`. */
  readonly oneHot?: boolean | undefined;
  /**
   * Default: none, so evaluation batches are never augmented by accident. `"default"`
   * picks `defaultAugmentation(split.imageShape)` (crop and flip for 32x32, none for 28x28).
   */
  readonly augment?: Augmentation | "default" | undefined;
  /** Seed of the augmentation draws (default 0); vary it per epoch. */
  readonly seed?: number | undefined;
}

/** A batch of tensors; the caller owns `xs` and `ys` (dispose them, or use `forEachBatch`). */
export interface Batch {
  /** float32 `[b, h, w, c]`. */
  readonly xs: tf.Tensor4D;
  /** float32 one-hot `[b, numClasses]`, or int32 `[b]` when `oneHot: false`. */
  readonly ys: tf.Tensor;
  /** Number of examples `b`. */
  readonly size: number;
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** A lookup table `lut[c * 256 + v]` giving the float for value `v` in channel `c`. */
const lookupTable = (normalize: Normalization, channels: number): Float32Array => {
  const lut = new Float32Array(256 * channels);
  for (let c = 0; c < channels; c++) {
    for (let v = 0; v < 256; v++) {
      let x: number;
      if (normalize === "raw") x = v;
      else if (normalize === "unit") x = v / 255;
      else {
        const mean = normalize.mean[c];
        const std = normalize.std[c];
        if (mean === undefined || std === undefined || !(std > 0)) {
          misuse(
            "config",
            `normalize: need a mean and a positive std for channel ${c}, got mean ${mean}, std ${std}`,
            { path: `normalize.std[${c}]`, value: std },
          );
        }
        x = (v / 255 - mean) / std;
      }
      lut[c * 256 + v] = x;
    }
  }
  return lut;
};

/** Writes image `src` of `images` into `out` at `dst`, shifted by (dy, dx), maybe flipped. */
const writeImage = (
  images: Uint8Array,
  src: number,
  out: Float32Array,
  dst: number,
  shape: ImageShape,
  lut: Float32Array,
  dy: number,
  dx: number,
  flip: boolean,
): void => {
  const [h, w, c] = shape;
  for (let y = 0; y < h; y++) {
    const sy = y + dy;
    const rowInside = sy >= 0 && sy < h;
    for (let x = 0; x < w; x++) {
      const sx = (flip ? w - 1 - x : x) + dx;
      const o = dst + (y * w + x) * c;
      if (rowInside && sx >= 0 && sx < w) {
        const s = src + (sy * w + sx) * c;
        for (let ch = 0; ch < c; ch++) out[o + ch] = lut[ch * 256 + (images[s + ch] ?? 0)] ?? 0;
      } else {
        for (let ch = 0; ch < c; ch++) out[o + ch] = lut[ch * 256] ?? 0; // a zero pixel
      }
    }
  }
};

/**
 * Builds the tensors of one batch: the examples of `split` at `indices`, as float32
 * `[b, h, w, c]` images and one-hot (or int32) labels. The caller owns the result.
 * Augmentation draws, per image in order: crop top offset, crop left offset (each
 * `nextInt(2 * pad + 1)`), then flip (`nextFloat() < 0.5`), from `mulberry32(seed)`.
 * @example
 * const { xs, ys } = toBatchTensors(dataset.train, plan[0]!, { normalize: dataset.stats });
 * // ... use them, then
 * xs.dispose(); ys.dispose();
 */
export const toBatchTensors = (
  split: Split,
  indices: ArrayLike<number>,
  options: BatchOptions = {},
): Batch => {
  const { normalize = "unit", oneHot = true, augment = noAugmentation, seed = 0 } = options;
  const shape = split.imageShape;
  const pixels = pixelsPerImage(shape);
  const b = indices.length;
  const aug = augment === "default" ? defaultAugmentation(shape) : augment;
  const pad = aug.cropPadding;
  if (!Number.isInteger(pad) || pad < 0) {
    misuse("config", `augment.cropPadding must be a non-negative integer, got ${pad}`, {
      path: "augment.cropPadding",
      value: pad,
    });
  }
  const lut = lookupTable(normalize, shape[2]);
  const rng = mulberry32(seed);
  const xs = new Float32Array(b * pixels);
  const ys = oneHot ? new Float32Array(b * split.numClasses) : new Int32Array(b);
  const images = split.images;
  for (let k = 0; k < b; k++) {
    const i = indices[k] ?? -1;
    if (!Number.isInteger(i) || i < 0 || i >= split.count) {
      misuse("shape", `toBatchTensors: index ${i} is outside 0..${split.count - 1}`, {
        path: `indices[${k}]`,
        value: i,
      });
    }
    const dy = pad > 0 ? rng.nextInt(2 * pad + 1) - pad : 0;
    const dx = pad > 0 ? rng.nextInt(2 * pad + 1) - pad : 0;
    const flip = aug.horizontalFlip ? rng.nextFloat() < 0.5 : false;
    if (dy === 0 && dx === 0 && !flip && shape[2] === 1) {
      const src = i * pixels;
      const dst = k * pixels;
      for (let p = 0; p < pixels; p++) xs[dst + p] = lut[images[src + p] ?? 0] ?? 0;
    } else {
      writeImage(images, i * pixels, xs, k * pixels, shape, lut, dy, dx, flip);
    }
    const label = split.labels[i] ?? 0;
    if (label >= split.numClasses) {
      misuse(
        "shape",
        `toBatchTensors: label ${label} of example ${i} is >= numClasses (${split.numClasses})`,
        { path: `labels[${i}]`, value: label },
      );
    }
    if (oneHot) ys[k * split.numClasses + label] = 1;
    else ys[k] = label;
  }
  // No intermediate tensors: both are built from filled arrays, so no tidy is needed.
  return {
    xs: tf.tensor4d(xs, [b, shape[0], shape[1], shape[2]], "float32"),
    ys: oneHot
      ? tf.tensor2d(ys as Float32Array, [b, split.numClasses], "float32")
      : tf.tensor1d(ys as Int32Array, "int32"),
    size: b,
  };
};

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

/**
 * Yields the batches of `plan` in order; batch `j` is augmented with seed
 * `deriveSeed(options.seed ?? 0, j)`. Each yielded batch is owned by the caller, who must
 * dispose it (`forEachBatch` does that for you). Lazy: only the current batch exists.
 * @example
 * for (const batch of batches(train, plan, { augment: "default", seed: epoch })) {
 *   await model.trainOnBatch(batch.xs, batch.ys);
 *   batch.xs.dispose(); batch.ys.dispose();
 * }
 */
export function* batches(
  split: Split,
  plan: BatchPlan,
  options: BatchOptions = {},
): Generator<Batch, void, undefined> {
  const base = options.seed ?? 0;
  for (const [j, indices] of plan.entries()) {
    yield toBatchTensors(split, indices, { ...options, seed: deriveSeed(base, j) });
  }
}

/**
 * Runs `fn` on each batch of `plan` in order (awaiting it), disposing the batch's tensors
 * after `fn` returns or throws; tensors `fn` keeps must be cloned. Same batches as `batches`.
 * @example
 * await forEachBatch(train, plan, { normalize: dataset.stats }, async ({ xs, ys }) => {
 *   await model.trainOnBatch(xs, ys);
 * });
 */
export const forEachBatch = async (
  split: Split,
  plan: BatchPlan,
  options: BatchOptions,
  fn: (batch: Batch, index: number) => void | Promise<void>,
): Promise<void> => {
  let index = 0;
  for (const batch of batches(split, plan, options)) {
    try {
      await fn(batch, index);
    } finally {
      batch.xs.dispose();
      batch.ys.dispose();
    }
    index++;
  }
};
