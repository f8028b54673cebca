/**
 * SGD with momentum and coupled weight decay, PyTorch semantics (`d = g + wd * w`,
 * `v = m * v + d`, `w -= lr * v`), with its state (the velocities) as explicit tensors, so the
 * experiment's branches can start from one pretrained point with the same momentum.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** Velocities aligned with `model.trainableWeights`; the holder owns them. */
export interface SgdState {
  readonly velocity: readonly tf.Tensor[];
}

/** Zero velocities for a model. The caller owns them. */
export const initSgd = (model: tf.LayersModel): SgdState => ({
  velocity: model.trainableWeights.map((w) => tf.zerosLike(w.read())),
});

/** A copy of the state (new tensors the caller owns). */
export const cloneSgd = (state: SgdState): SgdState => ({
  velocity: state.velocity.map((v) => v.clone()),
});

/** Frees the velocities. */
export const disposeSgd = (state: SgdState): void => {
  tf.dispose([...state.velocity]);
};

/** Hyper-parameters of one step. */
export interface SgdStep {
  readonly lr: number;
  readonly momentum: number;
  readonly weightDecay: number;
}

/**
 * One step on a batch (softmax cross-entropy on the model's logits): updates the model's weights
 * and returns the new state (the old one's tensors are freed) and the batch loss as a scalar
 * tensor the caller owns.
 */
export const sgdStep = (
  model: tf.LayersModel,
  state: SgdState,
  xs: tf.Tensor,
  ys: tf.Tensor,
  hp: SgdStep,
): { state: SgdState; loss: tf.Scalar } => {
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(
    () =>
      tf.losses.softmaxCrossEntropy(
        ys,
        model.apply(xs, { training: true }) as tf.Tensor,
      ) as tf.Scalar,
    vars,
  );
  const velocity = tf.tidy(() =>
    vars.map((v, i) => {
      const g = grads[v.name]!;
      const d = hp.weightDecay > 0 ? tf.add(g, tf.mul(v, hp.weightDecay)) : g;
      const nv = tf.add(tf.mul(state.velocity[i]!, hp.momentum), d);
      v.assign(tf.sub(v, tf.mul(nv, hp.lr)));
      return nv;
    }),
  );
  tf.dispose(Object.values(grads));
  disposeSgd(state);
  return { state: { velocity }, loss: value };
};
