/**
 * A small pre-activation ResNet (He et al. 2016) with BatchNorm: a 3x3 stem conv, stages of
 * basic blocks (BN-ReLU-conv3x3 twice), identity shortcuts where shapes allow and 1x1 projections
 * of the pre-activated input where they do not, a final BN-ReLU, global average pooling, logits.
 *
 * @module preresnet
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
  PositiveInt,
  resolveCommon,
  Widths,
} from "../options.js";
import { Seeds } from "../seeds.js";

/** Options of {@link preresnet}. */
export interface PreResNetOptions extends CommonOptions {
  /** Filters of each stage (every stage after the first halves the resolution); default `[16, 32, 64]`. */
  readonly widths?: readonly number[];
  /** Basic blocks per stage; default 1. */
  readonly blocksPerStage?: number;
}

/** The defaults of {@link preresnet}: 28x28x1 inputs, 10 classes, seed 1, widths 16/32/64, one block per stage. */
export const preresnetDefaults = {
  inputShape: [28, 28, 1],
  classes: 10,
  seed: 1,
  widths: [16, 32, 64],
  blocksPerStage: 1,
} as const satisfies Common & Required<PreResNetOptions>;

const props = { ...commonProps, widths: Widths, blocksPerStage: PositiveInt };

type Resolved = Common & { readonly widths: readonly number[]; readonly blocksPerStage: number };

const resolve = (o: PreResNetOptions): Resolved => ({
  ...resolveCommon(o, preresnetDefaults),
  widths: o.widths ?? preresnetDefaults.widths,
  blocksPerStage: o.blocksPerStage ?? preresnetDefaults.blocksPerStage,
});

const build = (r: Resolved): tfl.LayersModel => {
  const seeds = new Seeds(r.seed);
  const conv = (name: string, filters: number, kernel: number, strides: number) =>
    tfl.layers.conv2d({
      name,
      filters,
      kernelSize: kernel,
      strides,
      padding: "same",
      useBias: false,
      kernelInitializer: seeds.he(),
    });
  const bn = (name: string) => tfl.layers.batchNormalization({ name, momentum: 0.9 });
  const relu = (name: string) => tfl.layers.activation({ name, activation: "relu" });
  const apply = (layer: tfl.layers.Layer, x: tfl.SymbolicTensor | tfl.SymbolicTensor[]) =>
    layer.apply(x) as tfl.SymbolicTensor;

  const input = tfl.input({ shape: [...r.inputShape], name: "image" });
  const first = r.widths[0] ?? 16;
  let x = apply(conv("stem_conv", first, 3, 1), input);
  let channels = first;
  r.widths.forEach((filters, k) => {
    for (let j = 0; j < r.blocksPerStage; j++) {
      // The reference app's names for the first block of a stage; later blocks add `_block{j}`.
      const p = j === 0 ? `stage${k + 1}` : `stage${k + 1}_block${j + 1}`;
      const stride = k > 0 && j === 0 ? 2 : 1;
      const pre = apply(relu(`${p}_relu1`), apply(bn(`${p}_bn1`), x));
      const shortcut =
        stride === 1 && channels === filters
          ? x
          : apply(conv(`${p}_shortcut`, filters, 1, stride), pre);
      let y = apply(conv(`${p}_conv1`, filters, 3, stride), pre);
      y = apply(relu(`${p}_relu2`), apply(bn(`${p}_bn2`), y));
      y = apply(conv(`${p}_conv2`, filters, 3, 1), y);
      x = apply(tfl.layers.add({ name: `${p}_add` }), [y, shortcut]);
      channels = filters;
    }
  });
  x = apply(relu("final_relu"), apply(bn("final_bn"), x));
  x = apply(tfl.layers.globalAveragePooling2d({ name: "pool" }), x);
  const logits = apply(
    tfl.layers.dense({ name: "logits", units: r.classes, kernelInitializer: seeds.glorot() }),
    x,
  );
  return tfl.model({ name: "preresnet", inputs: input, outputs: logits });
};

/** @internal The spec entry of `preresnet`. */
export const preparePreResNet: Prepare = (input, path, ignore) =>
  map((o: PreResNetOptions) => () => build(resolve(o)))(decodeOptions(props, input, path, ignore));

/**
 * A small pre-activation ResNet with BatchNorm (tfjs momentum 0.9 = PyTorch 0.1, tfjs epsilon
 * 1e-3), named as the reference app's (`stem_conv`, `stage{k}_bn1`, `stage{k}_conv1`, ...,
 * `final_bn`, `pool`, `logits`); convs without bias, He-normal, logits Glorot-uniform. Throws on
 * invalid options. The caller owns (and disposes) it.
 *
 * @example
 * const model = preresnet({ inputShape: [32, 32, 3], blocksPerStage: 2 });
 * model.dispose();
 */
export const preresnet = (options: PreResNetOptions = {}): tfl.LayersModel =>
  build(resolve(orThrow(decodeOptions(props, options, "preresnet options"))));
