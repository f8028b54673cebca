/**
 * Losses: a loss maps the model's output and the batch targets to a scalar tensor (the mean over
 * the batch), differentiable with `tf.variableGrads`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { fail } from "./errors.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** A loss: `(predictions, targets) -> scalar`; any intermediates are the loss's to free (use `tf.tidy`). */
export type Loss = (predictions: tf.Tensor, targets: tf.Tensor) => tf.Scalar;

/** Options of {@link softmaxCrossEntropy}. */
export interface CrossEntropyOptions {
  /**
   * Label smoothing in [0, 1] (default 0), as `torch.nn.CrossEntropyLoss(label_smoothing=)`: the
   * target is `(1 - s) * onehot + s / classes`.
   */
  readonly labelSmoothing?: number;
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Mean softmax cross-entropy of logits `[batch, classes]` against integer labels `[batch]`
 * (int32, or float holding class indices), as `torch.nn.CrossEntropyLoss`. Throws for a bad
 * option or for logits and labels whose shapes do not fit.
 *
 * @example
 * const loss = softmaxCrossEntropy({ labelSmoothing: 0.1 });
 * const l = loss(model.apply(x) as tf.Tensor, labels); // tf.Scalar
 */
export const softmaxCrossEntropy = (options: CrossEntropyOptions = {}): Loss => {
  const s = options.labelSmoothing ?? 0;
  if (typeof s !== "number" || !Number.isFinite(s) || s < 0 || s > 1) {
    fail(
      "config",
      `softmaxCrossEntropy: labelSmoothing was ${String(s)}; pass a number in [0, 1]`,
      {
        path: "labelSmoothing",
        value: s,
        fix: "pass a number in [0, 1]",
      },
    );
  }
  return (logits, labels) => {
    if (logits.rank !== 2) {
      fail(
        "shape",
        `softmaxCrossEntropy: logits have shape [${logits.shape}]; pass [batch, classes] (the model's last layer without softmax)`,
      );
    }
    const [batch, classes] = logits.shape as [number, number];
    if (labels.rank !== 1 || labels.shape[0] !== batch) {
      fail(
        "shape",
        `softmaxCrossEntropy: labels have shape [${labels.shape}] but the logits have ${batch} rows; pass one integer class index per example, shape [${batch}]`,
      );
    }
    return tf.tidy(() => {
      const logp = tf.logSoftmax(tf.cast(logits, "float32") as tf.Tensor2D);
      const onehot = tf.cast(
        tf.oneHot(tf.cast(labels, "int32") as tf.Tensor1D, classes),
        "float32",
      );
      const target = s === 0 ? onehot : tf.add(tf.mul(onehot, 1 - s), s / classes);
      return tf.div(tf.neg(tf.sum(tf.mul(target, logp))), batch) as tf.Scalar;
    });
  };
};
