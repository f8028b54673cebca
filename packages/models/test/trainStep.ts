import * as tf from "@tensorflow/tfjs";

/** What one SGD step on a batch of 2 did. */
export interface StepReport {
  readonly logitsShape: number[];
  readonly logitsFinite: boolean;
  readonly loss: number;
  readonly gradCount: number;
  readonly gradsFinite: boolean;
  /** Trainable weights whose values changed. */
  readonly moved: number;
  /** Whether some BN moving statistic changed (training-mode forward). */
  readonly bnMoved: boolean;
}

const snapshot = (vars: readonly tf.LayerVariable[]): Float32Array[] =>
  vars.map((v) => (v.read().dataSync() as Float32Array).slice());

const changed = (before: Float32Array, after: Float32Array): boolean =>
  after.some((v, i) => v !== before[i]);

/**
 * Logits of a batch of 2 in inference mode, then one `tf.variableGrads` + SGD (lr 0.01) step on
 * softmax cross-entropy in training mode. Disposes every tensor it makes.
 */
export const trainStep = async (model: tf.LayersModel): Promise<StepReport> => {
  const shape = model.inputs[0]!.shape.slice(1) as number[];
  const classes = model.outputs[0]!.shape[1] as number;
  const x = tf.randomNormal([2, ...shape], 0, 1, "float32", 3);
  const labels = tf.tensor1d([1, classes - 1], "int32");
  const y = tf.oneHot(labels, classes);
  const logits = model.predict(x) as tf.Tensor;
  const logitsShape = logits.shape;
  const logitsFinite = (await logits.data()).every(Number.isFinite);

  const trainable = model.trainableWeights;
  const before = snapshot(trainable);
  const bnBefore = snapshot(model.nonTrainableWeights);
  const optimizer = tf.train.sgd(0.01);
  const { value, grads } = tf.variableGrads(
    () =>
      tf.losses.softmaxCrossEntropy(
        y,
        model.apply(x, { training: true }) as tf.Tensor,
      ) as tf.Scalar,
    trainable.map((w) => w.read() as tf.Variable),
  );
  const loss = (await value.data())[0]!;
  const gradList = Object.values(grads);
  let gradsFinite = true;
  for (const g of gradList) gradsFinite &&= (await g.data()).every(Number.isFinite);
  optimizer.applyGradients(grads);
  const after = snapshot(trainable);
  const moved = after.filter((a, i) => changed(before[i]!, a)).length;
  const bnMoved = snapshot(model.nonTrainableWeights).some((a, i) => changed(bnBefore[i]!, a));

  tf.dispose([x, labels, y, logits, value, ...gradList]);
  optimizer.dispose();
  return {
    logitsShape,
    logitsFinite,
    loss,
    gradCount: gradList.length,
    gradsFinite,
    moved,
    bnMoved,
  };
};
