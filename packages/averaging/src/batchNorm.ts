/**
 * BatchNormalization re-estimation (PyTorch `update_bn`): after averaging, the moving statistics
 * no longer match the averaged weights; recompute them with one pass over the training data.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import {
  type Batches,
  batchInput,
  batchTensors,
  isDatasetLike,
  iterateBatches,
} from "./batches.js";
import { fail } from "./errors.js";

/** A layer of a tfjs-layers model. */
type Layer = tfl.LayersModel["layers"][number];
type CallFn = Layer["call"];

/** Options of {@link updateBatchNorm}. */
export interface UpdateBatchNormOptions {
  /**
   * `"batch"` (default): every batch weighs the same, as PyTorch `update_bn` (`momentum=None`);
   * `"samples"`: batches weigh by their size, as the SWA authors' `bn_update`
   * (`momentum = b / (n + b)`). Both use the unbiased batch variance, as PyTorch stores it.
   */
  readonly weighting?: "batch" | "samples";
  /**
   * Dispose each batch's tensors after use. Default: true for a `tf.data.Dataset` (its iterator
   * creates the tensors), false for arrays and iterables (the caller owns them).
   */
  readonly disposeBatches?: boolean;
}

/** Every BatchNormalization layer of a model, nested models included, in graph order. */
export const batchNormLayers = (model: tfl.LayersModel): Layer[] => {
  const out: Layer[] = [];
  const visit = (layers: readonly Layer[]) => {
    for (const l of layers) {
      if (l.getClassName() === "BatchNormalization") out.push(l);
      const inner = (l as Partial<tfl.LayersModel>).layers;
      if (Array.isArray(inner)) visit(inner);
    }
  };
  visit(model.layers);
  return [...new Set(out)];
};

interface Accumulator {
  readonly layer: Layer;
  readonly axis: number;
  readonly channels: number;
  /** Per batch: the batch's mean and biased variance (float32, on the device), in turn ... */
  readonly moments: tf.Tensor[];
  /** ... and, per batch, its weight and the unbiasing factor `count / (count - 1)`. */
  readonly weights: number[];
  readonly unbias: number[];
}

const variableOf = (layer: Layer, suffix: string) => {
  const v = layer.weights.find((w) => w.originalName.endsWith(`/${suffix}`));
  if (v === undefined)
    fail("config", `updateBatchNorm: layer "${layer.name}" has no ${suffix}; is it built?`, {
      path: layer.name,
      fix: "build the model (call it once or give it an inputShape) before updateBatchNorm",
    });
  return v;
};

/** The non-channel axes of `x` for the accumulator's layer, and the values per channel. */
const reduction = (acc: Accumulator, x: tf.Tensor) => {
  const rank = x.rank;
  const axis = acc.axis < 0 ? acc.axis + rank : acc.axis;
  const axes = [...Array(rank).keys()].filter((a) => a !== axis);
  const count = x.size / x.shape[axis]!;
  if (count < 2) {
    fail(
      "shape",
      `updateBatchNorm: layer "${acc.layer.name}" got ${count} value per channel in a batch; ` +
        `the unbiased variance needs at least 2 (use batches of more than one sample)`,
      { path: acc.layer.name, value: count, fix: "use batches of more than one sample" },
    );
  }
  return { axis, axes, count, last: axis === rank - 1 };
};

/**
 * Records one batch's per-channel mean and biased variance (kept on the device as two
 * `[channels]` tensors) with its weight and unbiasing factor; nothing is read back.
 */
const record = (
  acc: Accumulator,
  x: tf.Tensor,
  mean: tf.Tensor,
  variance: tf.Tensor,
  count: number,
  bySamples: boolean,
): void => {
  acc.moments.push(tf.keep(tf.reshape(mean, [-1])), tf.keep(tf.reshape(variance, [-1])));
  acc.weights.push(bySamples ? x.shape[0]! : 1);
  acc.unbias.push(count / (count - 1));
};

/**
 * The layer's training-mode call with the statistics recorded. For the channels-last case (the
 * one tfjs-layers normalizes without broadcasting) the moments are computed once and reused for
 * the normalization, exactly as tfjs-layers' `normalizeBatchInTraining` computes the output, and
 * the moving-average update (overwritten at the end anyway) is skipped; otherwise the original
 * call runs and the moments are computed beside it.
 */
const recordingCall =
  (acc: Accumulator, original: CallFn, bySamples: boolean): CallFn =>
  (inputs, kwargs) => {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (x === undefined) return original.call(acc.layer, inputs, kwargs);
    const { axes, count, last } = reduction(acc, x);
    const gamma = acc.layer.weights.find((w) => w.originalName.endsWith("/gamma"));
    const beta = acc.layer.weights.find((w) => w.originalName.endsWith("/beta"));
    const epsilon = (acc.layer as unknown as { epsilon: number }).epsilon;
    if (last && x.dtype === "float32" && typeof epsilon === "number") {
      return tf.tidy(() => {
        const { mean, variance } = moments(x, axes, count);
        record(acc, x, mean, variance, count, bySamples);
        return tf.batchNorm(x, mean, variance, beta?.read(), gamma?.read(), epsilon);
      });
    }
    tf.tidy(() => {
      const { mean, variance } = tf.moments(tf.cast(x, "float32"), axes);
      record(acc, x, mean, variance, count, bySamples);
    });
    return original.call(acc.layer, inputs, kwargs);
  };

/**
 * Name of the optional moments kernel: input `{ x }` (float32, channels last), no attrs, outputs
 * `[mean, variance]` of shape `[channels]`: the per-channel mean and biased variance over every
 * other axis, as `tf.moments` (within float32 rounding). Where a kernel of this name is
 * registered on the active backend, `updateBatchNorm` computes the batch statistics of
 * channels-last layers with it; otherwise with `Sum`, `SquaredDifference`, `Sum`.
 * @wider/backend registers it on wasm (two float64 SIMD passes over the activations).
 */
export const momentsKernelName = "WiderMoments";

/**
 * Per-channel mean and biased variance of `x` over `axes` (every axis but the last): the
 * {@link momentsKernelName} kernel where the backend has one; otherwise two passes, as
 * `tf.moments`, with sums scaled by `1 / count` (`Sum` over leading axes is one pass over the
 * data on every backend and a float64-accumulating loop on wasm with @wider/backend, where wasm's
 * `Mean` transposes first).
 */
const moments = (x: tf.Tensor, axes: number[], count: number) => {
  if (tf.getKernel(momentsKernelName, tf.getBackend()) !== undefined) {
    const [mean, variance] = tf.engine().runKernel(momentsKernelName, { x }) as unknown as [
      tf.Tensor1D,
      tf.Tensor1D,
    ];
    return { mean, variance };
  }
  const inv = tf.scalar(1 / count);
  const mean = tf.mul(tf.sum(x, axes), inv);
  const variance = tf.mul(tf.sum(tf.squaredDifference(x, mean), axes), inv);
  return { mean, variance };
};

/** Reads every recorded statistic with ONE read from the device; sums in float64. */
const finish = (accs: readonly Accumulator[]): { mean: Float32Array; variance: Float32Array }[] => {
  const all = accs.flatMap((a) => a.moments);
  const flat = all.length === 0 ? new Float32Array(0) : tf.tidy(() => tf.concat(all).dataSync());
  let offset = 0;
  return accs.map((acc) => {
    const c = acc.channels;
    const mean = new Float64Array(c);
    const variance = new Float64Array(c);
    let total = 0;
    acc.weights.forEach((w, b) => {
      const u = acc.unbias[b]!;
      for (let i = 0; i < c; i++) {
        mean[i]! += w * flat[offset + i]!;
        variance[i]! += w * flat[offset + c + i]! * u;
      }
      offset += 2 * c;
      total += w;
    });
    // A layer the pass never reached keeps PyTorch's reset values: mean 0, variance 1.
    return total === 0
      ? { mean: new Float32Array(c), variance: new Float32Array(c).fill(1) }
      : {
          mean: Float32Array.from(mean, (s) => s / total),
          variance: Float32Array.from(variance, (s) => s / total),
        };
  });
};

/**
 * Resets and recomputes the moving mean and variance of every BatchNormalization layer (nested
 * models included) as the cumulative average of the batch statistics over one pass of `batches`,
 * running the model in training mode (as PyTorch `update_bn` calls `model.train()`: BN layers
 * normalize with the batch statistics, dropout is active) without changing any other weight.
 * A model without BatchNormalization returns at once without reading `batches`. Rejects when
 * `batches` yields nothing (the statistics are then left as they were) or a batch has a single
 * value per channel. The batch statistics stay on the device until the pass ends and are read
 * back once (then summed in float64), so the pass costs about one training-mode forward pass.
 *
 * @example
 * await updateBatchNorm(model, trainBatches, { weighting: "batch" });
 */
export const updateBatchNorm = async (
  model: tfl.LayersModel,
  batches: Batches,
  options: UpdateBatchNormOptions = {},
): Promise<void> => {
  const layers = batchNormLayers(model);
  if (layers.length === 0) return;
  const bySamples = (options.weighting ?? "batch") === "samples";
  const dispose = options.disposeBatches ?? isDatasetLike(batches);
  const accs = layers.map((layer): Accumulator => {
    const channels = variableOf(layer, "moving_mean").shape[0]!;
    const axis = layer.getConfig().axis;
    if (typeof axis !== "number")
      fail(
        "unsupported",
        `updateBatchNorm: layer "${layer.name}" has axis ${JSON.stringify(axis)}; only one channel axis (a number) is supported`,
        { path: layer.name, value: axis },
      );
    return { layer, axis, channels, moments: [], weights: [], unbias: [] };
  });
  // Keep the current statistics to restore them if the pass fails.
  const saved = layers.map(
    (l) =>
      [
        variableOf(l, "moving_mean").read().clone(),
        variableOf(l, "moving_variance").read().clone(),
      ] as const,
  );
  const patched = accs.map((acc) => {
    const own = Object.hasOwn(acc.layer, "call");
    const original = acc.layer.call;
    acc.layer.call = recordingCall(acc, original, bySamples);
    return () => {
      if (own) acc.layer.call = original;
      // Remove the instance property so the prototype's `call` shows through again.
      else delete (acc.layer as { call?: CallFn }).call;
    };
  });
  let seen = 0;
  try {
    for await (const batch of iterateBatches(batches)) {
      try {
        tf.tidy(() => {
          model.apply(batchInput(batch) as tf.Tensor | tf.Tensor[], { training: true });
        });
      } finally {
        if (dispose) tf.dispose(batchTensors(batch));
      }
      seen++;
    }
    if (seen === 0)
      fail(
        "config",
        "updateBatchNorm: batches yielded no batch; pass a non-empty (fresh) iterable",
        {
          path: "batches",
          fix: "pass a non-empty (fresh) iterable",
        },
      );
    const stats = finish(accs);
    accs.forEach((acc, i) => {
      const mt = tf.tensor1d(stats[i]!.mean);
      const vt = tf.tensor1d(stats[i]!.variance);
      variableOf(acc.layer, "moving_mean").write(mt);
      variableOf(acc.layer, "moving_variance").write(vt);
      tf.dispose([mt, vt]);
    });
  } catch (e) {
    layers.forEach((l, i) => {
      variableOf(l, "moving_mean").write(saved[i]![0]);
      variableOf(l, "moving_variance").write(saved[i]![1]);
    });
    throw e;
  } finally {
    for (const restore of patched) restore();
    for (const [m, v] of saved) tf.dispose([m, v]);
    for (const acc of accs) tf.dispose(acc.moments);
  }
};
