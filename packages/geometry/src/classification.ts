/**
 * Standard evaluators for classifiers: mean cross-entropy and error rate over a data set, in
 * batches, in inference mode.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { fail } from "./errors.js";

/** Options of {@link lossAndError}. */
export interface ClassifierOptions {
  /** Examples per forward pass. Default 256. */
  readonly batchSize?: number;
  /** The model outputs logits rather than probabilities (softmax). Default false. */
  readonly fromLogits?: boolean;
}

/** A labelled data set: `y` holds integer labels `[n]` or one-hot rows `[n, classes]`. */
export interface LabelledSet {
  readonly x: tf.Tensor;
  readonly y: tf.Tensor;
}

const PROB_FLOOR = 1e-7;

/**
 * Mean cross-entropy (`-log p_label`, probabilities floored at 1e-7 as Keras does) and error rate
 * (fraction of examples whose argmax is not the label, in [0, 1]) of `model` on `(x, y)`.
 * `y` is integer labels `[n]` or one-hot `[n, classes]`. Leaves no tensors behind.
 *
 * @example
 * const { loss, error } = await lossAndError(model, xTest, yTest, 512);
 */
export const lossAndError = async (
  model: tfl.LayersModel,
  x: tf.Tensor,
  y: tf.Tensor,
  batchSize = 256,
  options: Omit<ClassifierOptions, "batchSize"> = {},
): Promise<{ loss: number; error: number }> => {
  const n = x.shape[0]!;
  if (y.shape[0] !== n) {
    fail("shape", `x has ${n} examples but y has ${y.shape[0]}: they must match`, {
      path: "y",
      value: y.shape[0],
      fix: `${n} labels, one per example of x`,
    });
  }
  let lossSum = 0;
  let wrong = 0;
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    const [l, w] = tf.tidy(() => {
      const xb = tf.slice(x, start, size);
      const yb = tf.slice(y, start, size);
      const out = model.predict(xb) as tf.Tensor2D;
      const classes = out.shape[1]!;
      const labels = yb.rank === 1 ? tf.cast(yb, "int32") : tf.argMax(yb, 1);
      const oneHot = tf.cast(tf.oneHot(labels, classes), "float32");
      const logp = options.fromLogits ? tf.logSoftmax(out) : tf.log(tf.maximum(out, PROB_FLOOR));
      const nll = tf.neg(tf.sum(tf.mul(oneHot, logp)));
      const miss = tf.sum(tf.cast(tf.notEqual(tf.argMax(out, 1), labels), "float32"));
      return [nll, miss];
    });
    const [lv, wv] = await Promise.all([l.data(), w.data()]);
    l.dispose();
    w.dispose();
    lossSum += lv[0]!;
    wrong += wv[0]!;
  }
  return { loss: lossSum / n, error: wrong / n };
};

/**
 * An evaluator for `evaluatePlan` over named data sets: for `{ train, test }` it returns
 * `{ trainLoss, trainError, testLoss, testError }` (error as a fraction in [0, 1]).
 *
 * @example
 * evaluatePlan(plan, { model, evaluate: evaluateClassifier({ train: { x, y }, test: { x: xt, y: yt } }) });
 */
export const evaluateClassifier =
  (sets: Readonly<Record<string, LabelledSet>>, options: ClassifierOptions = {}) =>
  async (model: tfl.LayersModel): Promise<Record<string, number>> => {
    const out: Record<string, number> = {};
    const { batchSize = 256, ...rest } = options;
    for (const [name, set] of Object.entries(sets)) {
      const { loss, error } = await lossAndError(model, set.x, set.y, batchSize, rest);
      out[`${name}Loss`] = loss;
      out[`${name}Error`] = error;
    }
    return out;
  };
