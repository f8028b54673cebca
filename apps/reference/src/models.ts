/**
 * The app's models come from `@wider/models` (one definition for the apps, the tests and users):
 * the small MLP, CNN, VGG-style and pre-activation ResNet, and the paper's VGG-16, PreResNet and
 * WideResNet for 32x32x3 inputs. This module builds the configured one for the data set's shape.
 *
 * @module
 */
import type * as tfl from "@tensorflow/tfjs-layers";
import { buildModel, parameterCounts } from "@wider/models";
import * as E from "fp-ts/lib/Either.js";
import { AppError } from "./AppError.js";
import type { Config } from "./config.js";

export { hasBatchNorm } from "@wider/models";

/** What a model needs to know about the data. */
export interface ModelShape {
  /** `[height, width, channels]`. */
  readonly imageShape: readonly [number, number, number];
  /** Number of classes. */
  readonly classes: number;
}

/**
 * Builds the configured model with seeded initial weights (same name and seed, same weights); a
 * model that does not fit the data (a paper model on 28x28 images) is an {@link AppError}.
 *
 * @example
 * const m = buildAppModel("mlp", { imageShape: [28, 28, 1], classes: 10 }, 0);
 */
export const buildAppModel = (
  name: Config["model"],
  shape: ModelShape,
  seed: number,
): tfl.LayersModel => {
  const m = buildModel({
    kind: name,
    inputShape: [...shape.imageShape],
    classes: shape.classes,
    seed,
  });
  if (E.isLeft(m))
    throw new AppError(
      `--model ${name}: ${m.left.message}; the paper's models (vgg16, vgg16bn, preresnet110, preresnet164, wrn28x10) need 32x32x3 images such as --dataset cifar10`,
    );
  return m.right;
};

/** Number of scalar parameters, trainable and not. */
export const parameterCount = (model: tfl.LayersModel): number => {
  const c = parameterCounts(model);
  return c.trainable + c.nonTrainable;
};
