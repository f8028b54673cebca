/**
 * A small CNN: (3x3 valid conv, ReLU, 2x2 max-pool) per stage, a ReLU dense layer, logits;
 * optionally BatchNorm after each conv.
 *
 * @module cnn
 */

import * as tfl from "@tensorflow/tfjs-layers";
import { orThrow } from "@wider/errors";
import { chain, left, right } from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import * as t from "io-ts";
import type { Prepare } from "../definition.js";
import { invalidSpec } from "../errors.js";
import {
  type Common,
  type CommonOptions,
  commonProps,
  decodeOptions,
  PositiveInt,
  resolveCommon,
  Widths,
} from "../options.js";
import { Seeds } from "../seeds.js";

/** Options of {@link cnn}. */
export interface CnnOptions extends CommonOptions {
  /** Filters of each conv-pool stage; default `[32, 64]`. */
  readonly filters?: readonly number[];
  /** Units of the hidden dense layer; default 128. */
  readonly dense?: number;
  /** BatchNorm (momentum 0.9 in tfjs terms = PyTorch's 0.1) between each conv and its ReLU; default false. */
  readonly batchNorm?: boolean;
}

/** The defaults of {@link cnn}: conv32-pool-conv64-pool-dense128-logits on 28x28x1, 10 classes, seed 1. */
export const cnnDefaults = {
  inputShape: [28, 28, 1],
  classes: 10,
  seed: 1,
  filters: [32, 64],
  dense: 128,
  batchNorm: false,
} as const satisfies Common & Required<CnnOptions>;

const props = { ...commonProps, filters: Widths, dense: PositiveInt, batchNorm: t.boolean };

type Resolved = Common & Required<Omit<CnnOptions, keyof CommonOptions>>;

const resolve = (o: CnnOptions, path: string) => {
  const r: Resolved = {
    ...resolveCommon(o, cnnDefaults),
    filters: o.filters ?? cnnDefaults.filters,
    dense: o.dense ?? cnnDefaults.dense,
    batchNorm: o.batchNorm ?? cnnDefaults.batchNorm,
  };
  let [h, w] = r.inputShape;
  for (let i = 0; i < r.filters.length; i++) {
    h = Math.floor((h - 2) / 2);
    w = Math.floor((w - 2) / 2);
    if (h < 1 || w < 1)
      return left(
        invalidSpec(
          `${path}.inputShape`,
          `got ${JSON.stringify(r.inputShape)}, too small for ${r.filters.length} conv-pool stages ` +
            `(stage ${i + 1} would be empty); pass larger images or fewer filters`,
          r.inputShape,
        ),
      );
  }
  return right(r);
};

const build = (r: Resolved): tfl.Sequential => {
  const seeds = new Seeds(r.seed);
  const layers: tfl.layers.Layer[] = [];
  r.filters.forEach((filters, i) => {
    const k = i + 1;
    layers.push(
      tfl.layers.conv2d({
        name: `conv${k}`,
        ...(i === 0 ? { inputShape: [...r.inputShape] } : {}),
        filters,
        kernelSize: 3,
        activation: r.batchNorm ? "linear" : "relu",
        kernelInitializer: seeds.he(),
      }),
    );
    if (r.batchNorm)
      layers.push(
        tfl.layers.batchNormalization({ name: `bn${k}`, momentum: 0.9 }),
        tfl.layers.activation({ name: `relu${k}`, activation: "relu" }),
      );
    layers.push(tfl.layers.maxPooling2d({ name: `pool${k}`, poolSize: 2 }));
  });
  layers.push(
    tfl.layers.flatten({ name: "flatten" }),
    tfl.layers.dense({
      name: "fc1",
      units: r.dense,
      activation: "relu",
      kernelInitializer: seeds.he(),
    }),
    tfl.layers.dense({ name: "logits", units: r.classes, kernelInitializer: seeds.glorot() }),
  );
  return tfl.sequential({ name: r.batchNorm ? "cnn_bn" : "cnn", layers });
};

/** @internal The spec entry of `cnn`. */
export const prepareCnn: Prepare = (input, path, ignore) =>
  pipe(
    decodeOptions(props, input, path, ignore),
    chain((o) => resolve(o, path)),
    chain((r) => right(() => build(r))),
  );

/**
 * A small CNN with layers `conv1`, [`bn1`, `relu1`,] `pool1`, ..., `flatten`, `fc1`, `logits`
 * (He-normal ReLU layers, Glorot-uniform logits, biases zero). Throws on invalid options. The
 * caller owns (and disposes) it.
 *
 * @example
 * const model = cnn({ inputShape: [32, 32, 3], classes: 100, batchNorm: true });
 * model.dispose();
 */
export const cnn = (options: CnnOptions = {}): tfl.Sequential =>
  build(
    orThrow(
      pipe(
        decodeOptions(props, options, "cnn options"),
        chain((o) => resolve(o, "cnn options")),
      ),
    ),
  );
