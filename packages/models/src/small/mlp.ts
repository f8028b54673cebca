/**
 * A multilayer perceptron: flatten, ReLU dense layers, a linear logits layer.
 *
 * @module mlp
 */

import * as tfl from "@tensorflow/tfjs-layers";
import { orThrow } from "@wider/errors";
import { map } from "fp-ts/lib/Either.js";
import type { Prepare } from "../definition.js";
import {
  type Common,
  type CommonOptions,
  commonProps,
  decodeOptions,
  resolveCommon,
  Widths,
} from "../options.js";
import { Seeds } from "../seeds.js";

/** Options of {@link mlp}. */
export interface MlpOptions extends CommonOptions {
  /** Units of the hidden ReLU layers, in order; default `[512, 256]` (784-512-256-10 on MNIST). */
  readonly hidden?: readonly number[];
}

/** The defaults of {@link mlp}: 28x28x1 inputs, 10 classes, hidden `[512, 256]`, seed 1. */
export const mlpDefaults = {
  inputShape: [28, 28, 1],
  classes: 10,
  seed: 1,
  hidden: [512, 256],
} as const satisfies Common & Required<MlpOptions>;

const props = { ...commonProps, hidden: Widths };

const build = (c: Common, hidden: readonly number[]): tfl.Sequential => {
  const seeds = new Seeds(c.seed);
  return tfl.sequential({
    name: "mlp",
    layers: [
      tfl.layers.flatten({ name: "flatten", inputShape: [...c.inputShape] }),
      ...hidden.map((units, i) =>
        tfl.layers.dense({
          name: `fc${i + 1}`,
          units,
          activation: "relu",
          kernelInitializer: seeds.he(),
        }),
      ),
      tfl.layers.dense({ name: "logits", units: c.classes, kernelInitializer: seeds.glorot() }),
    ],
  });
};

/** @internal The spec entry of `mlp`. */
export const prepareMlp: Prepare = (input, path, ignore) =>
  map(
    (o: MlpOptions) => () => build(resolveCommon(o, mlpDefaults), o.hidden ?? mlpDefaults.hidden),
  )(decodeOptions(props, input, path, ignore));

/**
 * An MLP with layers `flatten`, `fc1`..`fcN` (ReLU, He-normal) and `logits` (Glorot-uniform),
 * biases zero, outputting logits. Throws on invalid options. The caller owns (and disposes) it.
 *
 * @example
 * const model = mlp({ hidden: [256, 128], seed: 7 }); // the reference app's old 784-256-128-10
 * model.dispose();
 */
export const mlp = (options: MlpOptions = {}): tfl.Sequential => {
  const o = orThrow(decodeOptions(props, options, "mlp options"));
  return build(resolveCommon(o, mlpDefaults), o.hidden ?? mlpDefaults.hidden);
};
