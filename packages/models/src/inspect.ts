/**
 * Questions about a built model: does it have BatchNorm, how many parameters does it hold.
 *
 * @module inspect
 */
import type * as tfl from "@tensorflow/tfjs-layers";

/** A model's scalar parameter counts. */
export interface ParameterCounts {
  /** Elements of the trainable weights (kernels, biases, BN gamma and beta). */
  readonly trainable: number;
  /** Elements of the other weights (BN moving mean and variance). */
  readonly nonTrainable: number;
}

const layersOf = (model: tfl.LayersModel): tfl.layers.Layer[] =>
  model.layers.flatMap((l) =>
    "layers" in l && Array.isArray((l as tfl.LayersModel).layers)
      ? [l, ...layersOf(l as tfl.LayersModel)]
      : [l],
  );

/**
 * Whether the model (or a model nested in it) has a BatchNormalization layer; then SWA weights
 * need BN statistics re-estimated (`updateBatchNorm` in `@wider/averaging`).
 *
 * @example
 * hasBatchNorm(preresnet()); // true
 */
export const hasBatchNorm = (model: tfl.LayersModel): boolean =>
  layersOf(model).some((l) => l.getClassName() === "BatchNormalization");

const size = (shape: readonly (number | null)[]): number =>
  shape.reduce((n: number, d) => n * (d ?? 1), 1);

/**
 * Trainable and non-trainable parameter counts, e.g. `{ trainable: 535818, nonTrainable: 0 }`
 * for `mlp()`.
 */
export const parameterCounts = (model: tfl.LayersModel): ParameterCounts => ({
  trainable: model.trainableWeights.reduce((n, w) => n + size(w.shape), 0),
  nonTrainable: model.nonTrainableWeights.reduce((n, w) => n + size(w.shape), 0),
});
