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
  readonly mean: Float64Array;
  readonly variance: Float64Array;
  total: number;
}

const variableOf = (layer: Layer, suffix: string) => {
  const v = layer.weights.find((w) => w.originalName.endsWith(`/${suffix}`));
  if (v === undefined)
    throw new Error(`updateBatchNorm: layer "${layer.name}" has no ${suffix}; is it built?`);
  return v;
};

/** Adds one input batch's per-channel mean and unbiased variance to the accumulator. */
const record = (acc: Accumulator, x: tf.Tensor, bySamples: boolean): void => {
  const rank = x.rank;
  const axis = acc.axis < 0 ? acc.axis + rank : acc.axis;
  const axes = [...Array(rank).keys()].filter((a) => a !== axis);
  const channels = x.shape[axis]!;
  const count = x.size / channels;
  if (count < 2) {
    throw new Error(
      `updateBatchNorm: layer "${acc.layer.name}" got ${count} value per channel in a batch; ` +
        `the unbiased variance needs at least 2 (use batches of more than one sample)`,
    );
  }
  const [m, v] = tf.tidy(() => {
    const { mean, variance } = tf.moments(tf.cast(x, "float32"), axes);
    return [mean.dataSync(), variance.dataSync()];
  });
  const w = bySamples ? x.shape[0]! : 1;
  const unbias = count / (count - 1);
  for (let c = 0; c < channels; c++) {
    acc.mean[c]! += w * m[c]!;
    acc.variance[c]! += w * v[c]! * unbias;
  }
  acc.total += w;
};

/**
 * Resets and recomputes the moving mean and variance of every BatchNormalization layer (nested
 * models included) as the cumulative average of the batch statistics over one pass of `batches`,
 * running the model in training mode (as PyTorch `update_bn` calls `model.train()`: BN layers
 * normalize with the batch statistics, dropout is active) without changing any other weight.
 * A model without BatchNormalization returns at once without reading `batches`. Rejects when
 * `batches` yields nothing (the statistics are then left as they were) or a batch has a single
 * value per channel.
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
      throw new Error(`updateBatchNorm: layer "${layer.name}" has axis ${JSON.stringify(axis)}`);
    return {
      layer,
      axis,
      mean: new Float64Array(channels),
      variance: new Float64Array(channels),
      total: 0,
    };
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
    const wrapped: CallFn = (inputs, kwargs) => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      if (x !== undefined) record(acc, x, bySamples);
      return original.call(acc.layer, inputs, kwargs);
    };
    acc.layer.call = wrapped;
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
      throw new Error(
        "updateBatchNorm: batches yielded no batch; pass a non-empty (fresh) iterable",
      );
    for (const acc of accs) {
      // A layer the pass never reached keeps PyTorch's reset values: mean 0, variance 1.
      const mean =
        acc.total === 0
          ? new Float32Array(acc.mean.length)
          : Float32Array.from(acc.mean, (s) => s / acc.total);
      const variance =
        acc.total === 0
          ? new Float32Array(acc.mean.length).fill(1)
          : Float32Array.from(acc.variance, (s) => s / acc.total);
      const mt = tf.tensor1d(mean);
      const vt = tf.tensor1d(variance);
      variableOf(acc.layer, "moving_mean").write(mt);
      variableOf(acc.layer, "moving_variance").write(vt);
      tf.dispose([mt, vt]);
    }
  } catch (e) {
    layers.forEach((l, i) => {
      variableOf(l, "moving_mean").write(saved[i]![0]);
      variableOf(l, "moving_variance").write(saved[i]![1]);
    });
    throw e;
  } finally {
    for (const restore of patched) restore();
    for (const [m, v] of saved) tf.dispose([m, v]);
  }
};
