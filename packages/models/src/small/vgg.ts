/**
 * A small VGG-style net: blocks of 3x3 `same` ReLU convs each closed by a 2x2 max-pool, a ReLU
 * dense layer, logits. No BatchNorm, like the authors' VGG-16.
 *
 * @module vgg
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

/** Options of {@link vgg}. */
export interface VggOptions extends CommonOptions {
  /** Filters of the convs of each block (a pool closes each block); default `[[16, 16], [32, 32], [64]]`. */
  readonly blocks?: ReadonlyArray<readonly number[]>;
  /** Units of the hidden dense layer; default 64. */
  readonly dense?: number;
}

/** The defaults of {@link vgg}: 28x28x1 inputs, 10 classes, seed 1, blocks 16-16 / 32-32 / 64, dense 64. */
export const vggDefaults = {
  inputShape: [28, 28, 1],
  classes: 10,
  seed: 1,
  blocks: [[16, 16], [32, 32], [64]],
  dense: 64,
} as const satisfies Common & Required<VggOptions>;

const Blocks = new t.Type<ReadonlyArray<readonly number[]>, ReadonlyArray<readonly number[]>>(
  "a non-empty array of non-empty arrays of positive integers, e.g. [[16, 16], [32]]",
  (u): u is ReadonlyArray<readonly number[]> =>
    Array.isArray(u) && u.length > 0 && u.every((b) => Widths.is(b)),
  (u, c) =>
    Array.isArray(u) && u.length > 0 && u.every((b) => Widths.is(b))
      ? t.success(u as ReadonlyArray<readonly number[]>)
      : t.failure(u, c),
  t.identity,
);

const props = { ...commonProps, blocks: Blocks, dense: PositiveInt };

type Resolved = Common & {
  readonly blocks: ReadonlyArray<readonly number[]>;
  readonly dense: number;
};

const resolve = (o: VggOptions, path: string) => {
  const r: Resolved = {
    ...resolveCommon(o, vggDefaults),
    blocks: o.blocks ?? vggDefaults.blocks,
    dense: o.dense ?? vggDefaults.dense,
  };
  const [h, w] = r.inputShape;
  const f = 2 ** r.blocks.length;
  if (h < f || w < f)
    return left(
      invalidSpec(
        `${path}.inputShape`,
        `got ${JSON.stringify(r.inputShape)}, too small for ${r.blocks.length} pooling blocks ` +
          `(needs at least ${f}x${f}); pass larger images or fewer blocks`,
        r.inputShape,
      ),
    );
  return right(r);
};

const build = (r: Resolved): tfl.Sequential => {
  const seeds = new Seeds(r.seed);
  const layers: tfl.layers.Layer[] = [];
  r.blocks.forEach((filters, b) => {
    filters.forEach((f, i) => {
      layers.push(
        tfl.layers.conv2d({
          name: `block${b + 1}_conv${i + 1}`,
          ...(layers.length === 0 ? { inputShape: [...r.inputShape] } : {}),
          filters: f,
          kernelSize: 3,
          padding: "same",
          activation: "relu",
          kernelInitializer: seeds.he(),
        }),
      );
    });
    layers.push(tfl.layers.maxPooling2d({ name: `block${b + 1}_pool`, poolSize: 2 }));
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
  return tfl.sequential({ name: "vgg", layers });
};

/** @internal The spec entry of `vgg`. */
export const prepareVgg: Prepare = (input, path, ignore) =>
  pipe(
    decodeOptions(props, input, path, ignore),
    chain((o) => resolve(o, path)),
    chain((r) => right(() => build(r))),
  );

/**
 * A small VGG-style net with layers `block{b}_conv{i}`, `block{b}_pool`, `flatten`, `fc1`,
 * `logits` (He-normal ReLU layers, Glorot-uniform logits, biases zero). Throws on invalid
 * options. The caller owns (and disposes) it.
 *
 * @example
 * const model = vgg({ inputShape: [32, 32, 3], blocks: [[32, 32], [64, 64], [128]] });
 * model.dispose();
 */
export const vgg = (options: VggOptions = {}): tfl.Sequential =>
  build(
    orThrow(
      pipe(
        decodeOptions(props, options, "vgg options"),
        chain((o) => resolve(o, "vgg options")),
      ),
    ),
  );
