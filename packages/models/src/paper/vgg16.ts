/**
 * VGG-16 for 32x32 images as in the SWA authors' `models/vgg.py`: 13 3x3 convs with bias (64-64,
 * 128-128, 256x3, 512x3, 512x3, each group closed by a 2x2 max-pool), optionally BatchNorm after
 * every conv, then Dropout-512-ReLU-Dropout-512-ReLU-logits.
 *
 * @module vgg16
 */

import * as tfl from "@tensorflow/tfjs-layers";
import { orThrow } from "@wider/errors";
import { chain, left, right } from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import type { Prepare } from "../definition.js";
import { invalidSpec } from "../errors.js";
import {
  type Common,
  type CommonOptions,
  commonProps,
  DropoutRate,
  decodeOptions,
  resolveCommon,
} from "../options.js";
import { Seeds } from "../seeds.js";
import { batchNorm } from "./layers.js";

/** Options of {@link vgg16} and {@link vgg16bn}. */
export interface Vgg16Options extends CommonOptions {
  /** Rate of the two classifier dropouts; default 0.5 (PyTorch `nn.Dropout()`). */
  readonly dropout?: number;
}

/** The defaults of the paper models: 32x32x3 (CIFAR) inputs, 10 classes, seed 1. */
export const paperDefaults = {
  inputShape: [32, 32, 3],
  classes: 10,
  seed: 1,
} as const satisfies Common;

const groups: ReadonlyArray<readonly number[]> = [
  [64, 64],
  [128, 128],
  [256, 256, 256],
  [512, 512, 512],
  [512, 512, 512],
];

const props = { ...commonProps, dropout: DropoutRate };

type Resolved = Common & { readonly dropout: number; readonly batchNorm: boolean };

const resolve = (o: Vgg16Options, bn: boolean, path: string) => {
  const r: Resolved = {
    ...resolveCommon(o, paperDefaults),
    dropout: o.dropout ?? 0.5,
    batchNorm: bn,
  };
  const [h, w] = r.inputShape;
  if (h < 32 || w < 32)
    return left(
      invalidSpec(
        `${path}.inputShape`,
        `got ${JSON.stringify(r.inputShape)}; VGG-16 pools 5 times and needs at least 32x32 images`,
        r.inputShape,
      ),
    );
  return right(r);
};

const build = (r: Resolved): tfl.Sequential => {
  const seeds = new Seeds(r.seed);
  const layers: tfl.layers.Layer[] = [];
  groups.forEach((filters, g) => {
    filters.forEach((f, i) => {
      const p = `block${g + 1}`;
      layers.push(
        tfl.layers.conv2d({
          name: `${p}_conv${i + 1}`,
          ...(layers.length === 0 ? { inputShape: [...r.inputShape] } : {}),
          filters: f,
          kernelSize: 3,
          padding: "same",
          activation: r.batchNorm ? "linear" : "relu",
          kernelInitializer: seeds.convFanOut(3, f),
          biasInitializer: "zeros",
        }),
      );
      if (r.batchNorm)
        layers.push(
          batchNorm(`${p}_bn${i + 1}`),
          tfl.layers.activation({ name: `${p}_relu${i + 1}`, activation: "relu" }),
        );
    });
    layers.push(tfl.layers.maxPooling2d({ name: `block${g + 1}_pool`, poolSize: 2 }));
  });
  const flat = Math.floor(r.inputShape[0] / 32) * Math.floor(r.inputShape[1] / 32) * 512;
  // Dropout is not seeded: a seeded tfjs dropout layer would draw the same mask at every step.
  const dense = (name: string, units: number, fanIn: number, activation: "relu" | "linear") =>
    tfl.layers.dense({
      name,
      units,
      activation,
      kernelInitializer: seeds.torchDefault(fanIn),
      biasInitializer: seeds.torchDefault(fanIn),
    });
  layers.push(
    tfl.layers.flatten({ name: "flatten" }),
    tfl.layers.dropout({ name: "dropout1", rate: r.dropout }),
    dense("fc1", 512, flat, "relu"),
    tfl.layers.dropout({ name: "dropout2", rate: r.dropout }),
    dense("fc2", 512, 512, "relu"),
    dense("logits", r.classes, 512, "linear"),
  );
  return tfl.sequential({ name: r.batchNorm ? "vgg16bn" : "vgg16", layers });
};

const prepare =
  (bn: boolean): Prepare =>
  (input, path, ignore) =>
    pipe(
      decodeOptions(props, input, path, ignore),
      chain((o) => resolve(o, bn, path)),
      chain((r) => right(() => build(r))),
    );

/** @internal The spec entry of `vgg16`. */
export const prepareVgg16 = prepare(false);
/** @internal The spec entry of `vgg16bn`. */
export const prepareVgg16bn = prepare(true);

const make = (options: Vgg16Options, bn: boolean): tfl.Sequential => {
  const path = bn ? "vgg16bn options" : "vgg16 options";
  return build(
    orThrow(
      pipe(
        decodeOptions(props, options, path),
        chain((o) => resolve(o, bn, path)),
      ),
    ),
  );
};

/**
 * The SWA paper's VGG-16 (no BatchNorm; 15.2 M parameters at 10 classes). Layers
 * `block{g}_conv{i}` (3x3, ReLU), `block{g}_pool`, `flatten`, `dropout1`, `fc1`, `dropout2`, `fc2`,
 * `logits`. Init as the authors': conv N(0, 2 / (9 * filters)), conv bias 0; dense layers PyTorch's
 * default U(+-1/sqrt(fanIn)) for kernel and bias. Throws on invalid options; the caller disposes.
 *
 * @example
 * const model = vgg16({ classes: 100 });
 * model.dispose();
 */
export const vgg16 = (options: Vgg16Options = {}): tfl.Sequential => make(options, false);

/**
 * VGG-16 with BatchNorm (PyTorch momentum 0.1, epsilon 1e-5) between every conv and its ReLU
 * (`block{g}_bn{i}`, `block{g}_relu{i}`); otherwise as {@link vgg16}.
 *
 * @example
 * const model = vgg16bn({ seed: 3 });
 * model.dispose();
 */
export const vgg16bn = (options: Vgg16Options = {}): tfl.Sequential => make(options, true);
