/**
 * LOCAL STAND-IN for `@wider/averaging` (TODO(@wider/averaging): replace with its `swa()` and
 * `updateBatchNorm` once the package lands). Minimal: the SWA running mean and a BatchNorm
 * re-estimation pass weighting each batch equally.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import type { Weights } from "@wider/weights";

/** `n` models averaged so far and their mean (owned by the state). */
export interface SwaState {
  readonly n: number;
  readonly mean: Weights | null;
}

/** An empty SWA state. */
export const swaInit = (): SwaState => ({ n: 0, mean: null });

/**
 * `mean <- mean + (w - mean) / (n + 1)`; the first update copies. Disposes the old state's
 * tensors; `w` stays the caller's.
 */
export const swaUpdate = (state: SwaState, w: Weights): SwaState => {
  const old = state.mean;
  const mean: Record<string, tf.Tensor> = {};
  tf.tidy(() => {
    for (const [k, t] of Object.entries(w)) {
      const m = old?.[k];
      mean[k] = tf.keep(m === undefined ? t.clone() : tf.add(m, tf.div(tf.sub(t, m), state.n + 1)));
    }
  });
  if (old !== null) for (const t of Object.values(old)) t.dispose();
  return { n: state.n + 1, mean };
};

type BatchNormLike = tfl.layers.Layer & { momentum: number };

/**
 * Resets every BatchNormalization layer's moving statistics and recomputes them as the
 * cumulative average (each batch weighted equally) of the batch statistics over `batches`,
 * with the other weights fixed. A model without BatchNorm returns at once.
 */
export const updateBatchNorm = async (
  model: tfl.LayersModel,
  batches: Iterable<tf.Tensor>,
): Promise<void> => {
  const bns = model.layers.filter(
    (l) => l.getClassName() === "BatchNormalization",
  ) as BatchNormLike[];
  if (bns.length === 0) return;
  const saved = bns.map((l) => l.momentum);
  for (const l of bns) {
    for (const w of l.weights) {
      if (w.originalName.endsWith("moving_mean")) w.write(tf.zerosLike(w.read()));
      if (w.originalName.endsWith("moving_variance")) w.write(tf.onesLike(w.read()));
    }
  }
  let k = 0;
  for (const x of batches) {
    // tfjs: moving = moving * momentum + batch * (1 - momentum); momentum k/(k+1) gives the mean.
    for (const l of bns) l.momentum = k / (k + 1);
    tf.tidy(() => {
      model.apply(x, { training: true });
    });
    x.dispose();
    k++;
    await new Promise<void>((r) => setImmediate(r));
  }
  bns.forEach((l, i) => {
    l.momentum = saved[i] as number;
  });
};
