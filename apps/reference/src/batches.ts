/**
 * Batches of a run as functions of the global step (so the batch-plan position IS the step, as
 * `@wider/training`'s loop wants), BatchNorm re-estimation batches, and the per-epoch test error.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { deriveSeed } from "@wider/data";
import type { Batch } from "@wider/training";
import type { Config } from "./config.js";
import { type AppDataset, epochPlan, evalBatch, trainBatch } from "./dataset.js";

/** Seed of the augmentation draws of batch `i` of epoch `epoch`. */
const augmentSeed = (config: Config, epoch: number, i: number): number =>
  deriveSeed(deriveSeed(config.dataSeed + 1, epoch), i);

/**
 * The training batch of global step `step`: epoch `floor(step / spe)` in the order seeded by
 * `(dataSeed, epoch)`, batch `step mod spe` of it, augmented per `config.augment`. Every track sees
 * the same batch at the same step. The last epoch's plan is cached.
 */
export const stepBatches = (
  config: Config,
  data: AppDataset,
  spe: number,
): ((step: number) => Batch) => {
  let cached: { epoch: number; plan: readonly Int32Array[] } | null = null;
  return (step) => {
    const epoch = Math.floor(step / spe);
    if (cached?.epoch !== epoch)
      cached = { epoch, plan: epochPlan(config, data.train.count, epoch) };
    const i = step % spe;
    const idx = cached.plan[i] as Int32Array;
    return trainBatch(data, idx, augmentSeed(config, epoch, i), config.augment);
  };
};

/** Train batches (images only) for BatchNorm re-estimation: one pass in the order of `epoch`. */
export function* bnBatches(data: AppDataset, config: Config, epoch: number): Generator<tf.Tensor> {
  const plan = epochPlan(config, data.train.count, epoch);
  for (const [i, b] of plan.entries()) {
    const { x, y } = trainBatch(data, b, augmentSeed(config, epoch, i), config.augment);
    y.dispose();
    yield x;
  }
}

/** Test error of the model in inference mode on `indices` of the test split. */
export const testError = async (
  model: tfl.LayersModel,
  data: AppDataset,
  indices: Int32Array,
  batch = 500,
): Promise<number> => {
  let wrong = 0;
  for (let i = 0; i < indices.length; i += batch) {
    const idx = indices.subarray(i, Math.min(i + batch, indices.length));
    const { x, y } = evalBatch(data, data.test, idx);
    const w = tf.tidy(() =>
      tf.sum(tf.notEqual(tf.argMax(model.apply(x, { training: false }) as tf.Tensor, 1), y)),
    );
    wrong += (await w.data())[0] as number;
    tf.dispose([x, y, w]);
  }
  return wrong / indices.length;
};
