/**
 * SGD with momentum and weight decay, written out by hand so that its state (the momentum
 * buffers) is plain data the checkpoint can save, and so that the rate is set per step.
 *
 * The update is PyTorch's `torch.optim.SGD` (the authors' setting), weight decay COUPLED (L2):
 *   d = g + weightDecay * w;  v = momentum * v + d;  w = w - lr * v
 * which equals plain momentum SGD on `loss + weightDecay/2 * |w|^2`. Decay applies to every
 * trainable weight (biases and BatchNorm scales included, as in the authors' code).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";

/** Hyper-parameters of {@link sgdStep}. */
export interface SgdOptions {
  readonly momentum: number;
  readonly weightDecay: number;
}

/** Momentum buffers keyed by the variable's `originalName`; owned by whoever holds the state. */
export type Velocity = Readonly<Record<string, tf.Tensor>>;

/** Zero momentum buffers for a model's trainable weights; the caller owns them. */
export const zeroVelocity = (model: tfl.LayersModel): Velocity =>
  Object.fromEntries(model.trainableWeights.map((w) => [w.originalName, tf.zerosLike(w.read())]));

/** Frees momentum buffers. */
export const disposeVelocity = (v: Velocity): void => {
  for (const t of Object.values(v)) t.dispose();
};

/** Mean softmax cross-entropy of logits against integer labels. */
export const crossEntropy = (logits: tf.Tensor, labels: tf.Tensor1D): tf.Scalar =>
  tf.tidy(() => {
    const logp = tf.logSoftmax(logits as tf.Tensor2D);
    const onehot = tf.oneHot(labels, logits.shape[1] as number);
    return tf.neg(tf.mean(tf.sum(tf.mul(onehot, logp), 1))) as tf.Scalar;
  });

/**
 * One SGD step on a batch, in training mode (BatchNorm uses batch statistics and updates its
 * moving averages). Returns the batch loss (before the step) and the new velocity; the old
 * velocity's tensors are disposed (pass ownership in, get it back).
 */
export const sgdStep = (
  model: tfl.LayersModel,
  velocity: Velocity,
  x: tf.Tensor,
  labels: tf.Tensor1D,
  lr: number,
  options: SgdOptions,
): { readonly loss: tf.Scalar; readonly velocity: Velocity } => {
  const vars = model.trainableWeights;
  const tfVars = vars.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(
    () => crossEntropy(model.apply(x, { training: true }) as tf.Tensor, labels),
    tfVars,
  );
  const next: Record<string, tf.Tensor> = {};
  tf.tidy(() => {
    vars.forEach((w, i) => {
      const variable = tfVars[i] as tf.Variable;
      const g = grads[variable.name];
      const v = velocity[w.originalName];
      if (g === undefined || v === undefined)
        throw new Error(`sgdStep: no gradient or velocity for ${w.originalName}`);
      const d = options.weightDecay === 0 ? g : tf.add(g, tf.mul(variable, options.weightDecay));
      const nv = tf.add(tf.mul(v, options.momentum), d);
      variable.assign(tf.sub(variable, tf.mul(nv, lr)));
      next[w.originalName] = tf.keep(nv);
    });
  });
  for (const g of Object.values(grads)) g.dispose();
  disposeVelocity(velocity);
  return { loss: value, velocity: next };
};
